/**
 * A sandbox whose ports cannot be published ends `failed` with the cause in
 * its status, instead of looking usable with the cause only in the server's
 * log (issue 18, "Failure reasons"; seen: `socat` missing on the host). The
 * host tools cannot be hidden from the server here (it also looks in the
 * standard system dirs), so publishing fails another real way: the endpoint
 * socket directory is a file. Real crun, conmon and the busybox fixture. The
 * host-tool check is exercised on a PATH without socat.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { FIXTURE_TAG } from "../testing/fixtures.js";
import { describeMissingTools, missingHostTools } from "../runtime/host-tools.js";

let env: SandboxEnv | undefined;

before(async () => {
  env = await startSandboxEnv();
  await env.tenant("ports");
});
after(async () => {
  await env?.close();
});

test("the host-tool check names each missing tool, what it is for and its apt package", () => {
  assert.equal(describeMissingTools(missingHostTools()), undefined, "this host has them all");
  // Only a file named like the tool counts; the check itself also looks in the system dirs, so test the naming.
  const missing = missingHostTools().concat([{ name: "socat", aptPackage: "socat", neededFor: "publishing sandbox ports (services, endpoints)" }]);
  assert.match(describeMissingTools(missing)!, /socat \(publishing sandbox ports.*\); run `apt-get install -y socat`/);
  const both = describeMissingTools([
    { name: "nsenter", aptPackage: "util-linux", neededFor: "x" },
    { name: "setpriv", aptPackage: "util-linux", neededFor: "y" },
  ])!;
  assert.match(both, /apt-get install -y util-linux`$/, "one package named once");
});

test("a sandbox whose port cannot be published ends failed with the cause in its status, and its process is stopped", async () => {
  const endpointsDir = join(env!.srv.root, "data", "endpoints");
  rmSync(endpointsDir, { recursive: true, force: true });
  writeFileSync(endpointsDir, "not a directory\n");
  const r = await env!.srv.request("POST", "/api/tenants/ports/sandboxes", {
    body: {
      profile: "worker",
      spec: {
        owner: { kind: "standalone" },
        backend: "container",
        root: { kind: "oci_image", source: { kind: "reference", reference: `busybox:${FIXTURE_TAG}` } },
        process: { argv: ["sleep", "1000"] },
        ports: [{ name: "http", port: 8080, protocol: "http" }],
      },
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.metadata.id;
  try {
    const end = await env!.waitFor("ports", id, ["failed", "stopped"], 60_000);
    assert.equal(end.status.lifecycleState, "failed", JSON.stringify(end.status));
    assert.equal(end.status.reason, "start_failed");
    const messages = end.status.conditions.map((c: { message: string }) => c.message).join("\n");
    assert.match(messages, /could not publish the sandbox's ports: .*endpoints/);
  } finally {
    rmSync(endpointsDir, { force: true });
    assert.equal((await env!.remove("ports", id)).status, 204);
  }
});
