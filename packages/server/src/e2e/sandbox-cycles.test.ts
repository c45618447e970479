/**
 * Acceptance (Sandboxes #4): after 100 create → ready → stop → delete
 * cycles the host holds nothing of them: no overlay mounts, cgroups, conmon
 * processes, runtime state, bundle dirs or kept logs.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { findLeftovers, describeLeftovers } from "../runtime/leak-check.js";

const CYCLES = 100;
let env: SandboxEnv;

before(async () => {
  env = await startSandboxEnv();
  await env.tenant("cycles");
});
after(() => env?.close());

test(`${CYCLES} create → ready → stop → delete cycles leave nothing on the host`, async () => {
  for (let i = 0; i < CYCLES; i++) {
    // A PID 1 that honours SIGTERM, so stop does not wait out the grace period.
    const s = await env.create("cycles", ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]);
    const ready = await env.waitFor("cycles", s.metadata.id, ["ready", "failed"]);
    assert.equal(ready.status.lifecycleState, "ready", `cycle ${i}: ${JSON.stringify(ready.status)}`);
    const stopped = await env.srv.request("POST", `/api/tenants/cycles/sandboxes/${s.metadata.id}/stop`, { body: { gracePeriodMs: 5000 } });
    assert.equal(stopped.body.status.lifecycleState, "stopped", `cycle ${i}`);
    assert.equal((await env.srv.request("DELETE", `/api/tenants/cycles/sandboxes/${s.metadata.id}`)).status, 204);
  }
  const runtimeDir = join(env.srv.root, "data", "runtime");
  // The tenant's own (now empty) cgroup group stays for its next sandbox; env.close() checks it goes with the tenant.
  const left = describeLeftovers(await findLeftovers(runtimeDir, { idleGroups: "ignore" }));
  assert.deepEqual(left, [], left.join("\n"));
  const ours = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(env.srv.root));
  assert.deepEqual(ours, [], "no mount under the server's dirs was left");
  const kept = join(env.srv.root, "data", "sandboxes", "cycles");
  assert.deepEqual(existsSync(kept) ? readdirSync(kept) : [], [], "kept logs are removed with their sandbox");
  assert.deepEqual((await env.srv.request("GET", "/api/tenants/cycles/sandboxes")).body.items, []);
});
