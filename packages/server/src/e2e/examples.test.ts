/**
 * Acceptance (Quickstart #3): every example in examples/ runs against a real
 * server (busybox from the loopback registry stands in for the public image).
 * examples/agent-sandbox is run by e2e/quickstart.test.ts, examples/agent by
 * e2e/agent-example.test.ts (it needs python3 and bash).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { runExample as runExampleIn } from "../testing/run-example.js";

let env: SandboxEnv;

before(async () => {
  env = await startSandboxEnv();
  await env.tenant("examples");
});
after(() => env?.close());

function runExample(dir: string) {
  return runExampleIn(dir, { NIMBUS_ENDPOINT: env.srv.url, NIMBUS_TOKEN: env.srv.token(), NIMBUS_TENANT_ID: "examples", IMAGE: "busybox" });
}

test("examples/exec-and-files runs: upload, exec, download, delete", async () => {
  const r = await runExample("exec-and-files");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^uploaded 17 bytes, sha256 [0-9a-f]{12}$/m);
  assert.match(r.out, /^exit code 0$/m);
  assert.match(r.out, /^lines counted: 3$/m);
  assert.deepEqual((await env.srv.request("GET", "/api/tenants/examples/sandboxes")).body.items, [], "the example deleted its sandbox");
});

test("examples/service runs: start by name, answer through the proxy, remove", async () => {
  const r = await runExample("service");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^service hello-web is ready on sandbox hello-web-[0-9a-z]{26}$/m);
  assert.match(r.out, /^proxy answered 200 hello from a service$/m);
  assert.deepEqual((await env.srv.request("GET", "/api/tenants/examples/services")).body.items, [], "the example removed its service");
});
