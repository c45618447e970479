// KeyedLock: work on one key runs one at a time in call order, a failure does
// not block the next, different keys run at once, and uncontended work starts
// synchronously (a create's first steps run inside the caller's code).
import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedLock } from "./keyed-lock.js";

const tick = () => new Promise((r) => setTimeout(r, 5));

test("one key: in call order, never interleaved, and a failure does not block the next", async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const step =
    (name: string, fail = false) =>
    async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    };
  const results = await Promise.allSettled([lock.run("k", step("a")), lock.run("k", step("b", true)), lock.run("k", step("c"))]);
  assert.deepEqual(log, ["a start", "a end", "b start", "b end", "c start", "c end"]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
});

test("different keys run at once; uncontended work starts before run() returns", async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const a = lock.run("a", async () => {
    log.push("a start");
    await tick();
    log.push("a end");
  });
  const b = lock.run("b", async () => {
    log.push("b start");
    await tick();
    log.push("b end");
  });
  assert.deepEqual(log, ["a start", "b start"], "both started synchronously");
  await Promise.all([a, b]);
  assert.deepEqual(log.slice(2).sort(), ["a end", "b end"]);
  await assert.rejects(
    lock.run("c", () => {
      throw new Error("sync throw");
    }),
    /sync throw/,
    "a synchronous throw becomes a rejection",
  );
});
