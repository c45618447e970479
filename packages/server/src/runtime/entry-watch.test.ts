// EntryWatch wakes a waiter when its name appears in the directory (well before
// the fallback timeout), not when another name does; the timeout and an abort
// still wake it; close wakes everyone, and later waits last their timeout.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { EntryWatch } from "./entry-watch.js";

let dir: string;
let watch: EntryWatch;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-entry-"));
  watch = new EntryWatch(dir);
});

afterEach(() => {
  watch.close();
  rmSync(dir, { recursive: true, force: true });
});

const settledWithin = async (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

test("a waiter wakes when its name appears, not when another one does", async () => {
  const t0 = performance.now();
  const mine = watch.nextEvent("mine", 10_000);
  writeFileSync(join(dir, "other"), "");
  assert.equal(await settledWithin(mine, 100), false, "another name does not wake it");
  symlinkSync(dir, join(dir, "mine")); // conmon's link in the sockets dir is a symlink
  assert.equal(await settledWithin(mine, 2_000), true);
  assert.ok(performance.now() - t0 < 5_000, "woken by the event, not the timeout");
});

test("without an event the wait ends after maxWaitMs or on abort; close wakes every waiter", async () => {
  const t0 = performance.now();
  await watch.nextEvent("never", 50);
  assert.ok(performance.now() - t0 >= 45);
  const abort = new AbortController();
  const aborted = watch.nextEvent("never", 60_000, abort.signal);
  abort.abort();
  assert.equal(await settledWithin(aborted, 100), true, "an abort ends the wait");
  const a = watch.nextEvent("a", 60_000);
  const b = watch.nextEvent("b", 60_000);
  watch.close();
  assert.equal(await settledWithin(Promise.all([a, b]), 100), true);
  const t1 = performance.now();
  await watch.nextEvent("c", 50);
  assert.ok(performance.now() - t1 >= 45, "after close a wait is a plain timeout, never a busy loop");
});
