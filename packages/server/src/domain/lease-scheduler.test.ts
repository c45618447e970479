import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../log.js";
import { LeaseScheduler } from "./lease-scheduler.js";
import { setTimeout as sleep } from "node:timers/promises";

/** Deadlines in a sorted list; `expireDue` removes what is due and records when. */
function harness() {
  const deadlines: number[] = [];
  const fired: Array<{ deadline: number; at: number }> = [];
  let asked = 0;
  const scheduler = new LeaseScheduler({
    nextDeadlineMs: () => {
      asked++;
      return deadlines.length ? Math.min(...deadlines) : undefined;
    },
    expireDue: (now) => {
      for (const d of [...deadlines]) {
        if (d <= now) {
          deadlines.splice(deadlines.indexOf(d), 1);
          fired.push({ deadline: d, at: Date.now() });
        }
      }
    },
    log: silentLogger,
  });
  return { deadlines, fired, scheduler, asked: () => asked };
}

test("fires each deadline on time from one timer, re-armed when an earlier one is added", async () => {
  const h = harness();
  const t0 = Date.now();
  h.deadlines.push(t0 + 400);
  h.scheduler.start();
  h.deadlines.push(t0 + 150);
  h.scheduler.arm();
  await sleep(800);
  h.scheduler.stop();
  assert.deepEqual(
    h.fired.map((f) => f.deadline),
    [t0 + 150, t0 + 400],
  );
  for (const f of h.fired) assert.ok(f.at - f.deadline < 300, `fired ${f.at - f.deadline} ms late`);
  // One look per arm/fire, not a poll: a handful of questions, not hundreds.
  assert.ok(h.asked() <= 6, `asked ${h.asked()} times`);
});

test("start expires what is already overdue at once; stop disarms", async () => {
  const h = harness();
  h.deadlines.push(Date.now() - 60_000, Date.now() + 200);
  h.scheduler.start();
  assert.equal(h.fired.length, 1);
  h.scheduler.stop();
  await sleep(300);
  assert.equal(h.fired.length, 1, "a stopped scheduler fires nothing");
});

test("a failing expiry is retried instead of spinning", async () => {
  let calls = 0;
  const s = new LeaseScheduler({
    nextDeadlineMs: () => Date.now() - 1,
    expireDue: () => {
      calls++;
      throw new Error("disk gone");
    },
    log: silentLogger,
  });
  s.start();
  await sleep(200);
  s.stop();
  assert.equal(calls, 1);
});
