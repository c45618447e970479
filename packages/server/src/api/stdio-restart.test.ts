/**
 * stdio across a server restart: containers outlive the server, so a new
 * server joins a running main process's output (aligning conmon's log with
 * the live stream once it is quiet) and replays what was printed before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Nimbus } from "@nimbus/nimbus";
import { buildBusyboxImage, FIXTURE_TAG, pushFixture } from "../testing/fixtures.js";
import { startRegistry } from "../testing/registry.js";
import { startTestServer } from "../testing/server.js";
import { purgeRuntime } from "../testing/purge.js";
import { busyboxSandboxBody } from "../testing/sandbox-env.js";
import { join } from "node:path";

test("after a restart, attach replays output from before it and keeps going live", { timeout: 120_000 }, async () => {
  const registry = await startRegistry();
  let srv: Awaited<ReturnType<typeof startTestServer>> | undefined;
  try {
    pushFixture(registry.backendHost, await buildBusyboxImage(), "library/busybox", FIXTURE_TAG);
    const flags = { registryMirrors: [`docker.io=${registry.url}`] };
    srv = await startTestServer({ flags });
    assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "rs" } })).status, 201);
    const created = await srv.request("POST", "/api/tenants/rs/sandboxes", {
      body: busyboxSandboxBody(["sh", "-c", "echo before; while read x; do echo got-$x; done"], { displayName: "rs" }),
    });
    const id = created.body.metadata.id;
    for (let i = 0; (await srv.request("GET", `/api/tenants/rs/sandboxes/${id}`)).body.status.lifecycleState !== "ready"; i++) {
      assert.ok(i < 600, "never ready");
      await new Promise((r) => setTimeout(r, 50));
    }
    const root = srv.root;
    await srv.stop();
    srv = await startTestServer({ root, flags });
    const nimbus = new Nimbus({ endpoint: srv.url, token: srv.token(), tenantId: "rs" });
    const s = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["stdio"] });
    const a = await nimbus.sessions.attach({ id: s.metadata.id, channel: "stdio", cursor: 0 });
    let out = "";
    a.stdout.on("data", (b: Buffer) => (out += b.toString()));
    a.stdin.write("after\n");
    const deadline = Date.now() + 15_000;
    while (out !== "before\ngot-after\n") {
      assert.ok(Date.now() < deadline, `got ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(a.cursor, out.length);
    await a.close();
    await srv.request("DELETE", "/api/tenants/rs");
  } finally {
    if (srv) {
      await srv.stop();
      await purgeRuntime(join(srv.root, "data", "runtime"));
      await srv.close();
    }
    await registry.stop();
  }
});
