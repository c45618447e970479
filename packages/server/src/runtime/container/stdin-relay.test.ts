/**
 * A relay's pid files outlive its processes, and pids are reused (pid_max is
 * 32768 here): a stale keeper.pid or relay.pid must never make the server
 * kill another process of the same program, such as the keeper of another
 * process's relay (which ended that relay at its start under CI load).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { releaseStdinKeeper, stopStdinRelay } from "./stdin-relay.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("a stale keeper.pid or relay.pid naming someone else's sleep or socat kills nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-relay-"));
  const elsewhere = mkdtempSync(join(tmpdir(), "nimbus-relay-other-"));
  // Another relay's keeper: the same program, in its own dir.
  const other = spawn("sleep", ["1000"], { cwd: elsewhere, stdio: "ignore" });
  try {
    await new Promise((r) => other.once("spawn", r));
    writeFileSync(join(dir, "keeper.pid"), String(other.pid));
    writeFileSync(join(dir, "relay.pid"), String(other.pid));
    releaseStdinKeeper(dir);
    await stopStdinRelay(dir);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(alive(other.pid!), "the other dir's sleep still runs");
    // The same process recorded in its own dir is the relay's, and goes.
    writeFileSync(join(elsewhere, "keeper.pid"), String(other.pid));
    releaseStdinKeeper(elsewhere);
    await new Promise((r) => other.once("exit", r));
  } finally {
    other.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
