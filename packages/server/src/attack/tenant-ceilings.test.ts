/**
 * Attack test for issue 15 finding 10 (no aggregate limits): a tenant whose
 * sandboxes each stay inside their own 512 MiB limit tries to take more memory
 * than its tenant ceiling by running several of them at once. Each sandbox's
 * main process (dd, PID 1) allocates and fills a 450 MiB buffer and holds it
 * (it blocks writing it into a FIFO nobody reads). With a 1 GiB tenant ceiling
 * at most two of four can hold their buffers: the kernel OOM-kills the rest
 * in the tenant's cgroup, while another tenant's sandbox is unaffected.
 * On the old code all four hold 1.8 GiB.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { sandboxEnvForFile } from "../testing/sandbox-env-for-file.js";

const MiB = 1024 * 1024;
const hold = (mib: number) => ["sh", "-c", `mkfifo /hold && { sleep 600 < /hold & } && exec dd if=/dev/zero of=/hold bs=${mib}M count=1`];

const world = sandboxEnvForFile(["hog", "calm"]);

const state = async (t: string, id: string) => (await world.env.srv.request("GET", `/api/tenants/${t}/sandboxes/${id}`)).body.status;

test("finding 10: four 512 MiB sandboxes cannot take more than their tenant's 1 GiB ceiling; another tenant is unaffected", { timeout: 120_000 }, async () => {
  const put = await world.env.srv.request("PUT", "/api/tenants/hog/limits", { body: { memoryLimitBytes: 1024 * MiB } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.limits.memoryLimitBytes, 1024 * MiB);
  assert.deepEqual(put.body.overrides, { memoryLimitBytes: 1024 * MiB });

  const calm = (await world.env.create("calm", hold(300), { resources: { memoryLimitBytes: 512 * MiB } })).metadata.id;
  const calmState = (await world.env.waitFor("calm", calm, ["ready", "failed", "exited"])).status;
  assert.equal(calmState.lifecycleState, "ready", JSON.stringify(calmState));

  const hogs: string[] = [];
  for (let i = 0; i < 4; i++) hogs.push((await world.env.create("hog", hold(450), { resources: { memoryLimitBytes: 512 * MiB } })).metadata.id);
  for (const id of hogs) await world.env.waitFor("hog", id, ["ready", "failed", "exited"]);

  // Each dd fills its buffer within a second or two; give the slowest host ample time.
  const deadline = Date.now() + 30_000;
  let alive = hogs;
  while (Date.now() < deadline) {
    const states = await Promise.all(hogs.map((id) => state("hog", id)));
    alive = hogs.filter((_, i) => states[i].lifecycleState === "ready");
    if (alive.length <= 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(alive.length <= 2, `${alive.length} of 4 sandboxes hold 450 MiB each under a 1 GiB tenant ceiling`);
  // And it stays so: the survivors hold their buffers, nobody grows back past the ceiling.
  await new Promise((r) => setTimeout(r, 2_000));
  const final = await Promise.all(hogs.map((id) => state("hog", id)));
  assert.ok(final.filter((s) => s.lifecycleState === "ready").length <= 2, JSON.stringify(final));
  const killed = final.filter((s) => s.lifecycleState !== "ready");
  assert.ok(killed.length >= 2);
  for (const s of killed) assert.ok(["failed", "exited"].includes(s.lifecycleState), JSON.stringify(s));

  // The other tenant's sandbox kept its 300 MiB throughout.
  assert.equal((await state("calm", calm)).lifecycleState, "ready");
  for (const id of hogs) await world.env.remove("hog", id);
  await world.env.remove("calm", calm);
});

test("finding 10: tenant limits are admin-only, validated, and null returns a field to the default", async () => {
  const got = await world.env.srv.request("GET", "/api/tenants/calm/limits");
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.limits, got.body.defaults);
  assert.ok(got.body.defaults.memoryLimitBytes > 0 && got.body.defaults.cpuCount >= 1 && got.body.defaults.pidsLimit >= 1024);
  const bad = await world.env.srv.request("PUT", "/api/tenants/calm/limits", { body: { cpuCount: 100_000 } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "op.invalid_input");
  const tooMany = await world.env.srv.request("PUT", "/api/tenants/calm/limits", { body: { cpuCount: got.body.defaults.cpuCount + 1 } });
  assert.equal(tooMany.status, 400, JSON.stringify(tooMany.body));
  const pinned = await world.env.srv.request("PUT", "/api/tenants/calm/limits", { body: { maxSandboxes: 1 } });
  assert.equal(pinned.body.limits.maxSandboxes, 1);
  const a = await world.env.create("calm", ["sleep", "600"]);
  await assert.rejects(
    world.env.create("calm", ["sleep", "600"]),
    (err: any) => err.response.status === 429 && /maxSandboxes/.test(err.response.body.error.message),
  );
  const unpinned = await world.env.srv.request("PUT", "/api/tenants/calm/limits", { body: { maxSandboxes: null } });
  assert.deepEqual(unpinned.body.overrides, {}, JSON.stringify(unpinned.body));
  assert.equal(unpinned.body.limits.maxSandboxes, got.body.defaults.maxSandboxes);
  await world.env.remove("calm", a.metadata.id);
  const key = (await world.env.srv.request("POST", "/api/tenants/calm/api-keys", { body: {} })).body.key;
  const asTenant = await world.env.srv.request("PUT", "/api/tenants/calm/limits", {
    body: { memoryLimitBytes: 2 ** 40 },
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(asTenant.status, 403, JSON.stringify(asTenant.body));
  assert.equal((await world.env.srv.request("GET", "/api/tenants/nobody/limits")).status, 404);
});
