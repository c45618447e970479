// The per-tenant lane of thread-pool work: at most `perTenant` items of one
// tenant run at once, the rest wait in that tenant's own queue, and another
// tenant's work starts at once however much the first one has queued.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TenantWorkLimiter } from "./tenant-work.js";

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

test("one tenant runs at most perTenant items at once; another tenant is not queued behind it", async () => {
  const lanes = new TenantWorkLimiter(2);
  const g = gate();
  let running = 0;
  let peak = 0;
  const hog = Array.from({ length: 20 }, () =>
    lanes.run("a", async () => {
      running++;
      peak = Math.max(peak, running);
      await g.p;
      running--;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(lanes.activeOf("a"), 2);
  assert.equal(peak, 2);
  let bRan = false;
  await lanes.run("b", async () => {
    bRan = true;
  });
  assert.ok(bRan, "tenant b's work waited behind tenant a's");
  g.open();
  await Promise.all(hog);
  assert.equal(peak, 2);
  assert.equal(lanes.activeOf("a"), 0);
});

test("a failing item frees its slot", async () => {
  const lanes = new TenantWorkLimiter(1);
  await assert.rejects(
    lanes.run("a", async () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(await lanes.run("a", async () => 7), 7);
  assert.equal(lanes.activeOf("a"), 0);
});
