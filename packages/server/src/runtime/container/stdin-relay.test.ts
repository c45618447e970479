/**
 * A relay's pid files outlive its processes, and pids are reused (pid_max is
 * 32768 here): a stale keeper.pid or relay.pid must never make the server
 * kill another process of the same program, such as the keeper of another
 * process's relay (which ended that relay at its start under CI load).
 *
 * And a relay just spawned on a busy host is not taken for dead: its argv is
 * empty in /proc for a moment after posix_spawn returns (CI saw "the stdin
 * relay (socat) exited at start" with nothing in relay.err).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "./exec.js";
import { endStdinRelay, releaseStdinKeeper, startStdinRelay, stdinRelayWriter, stopStdinRelay } from "./stdin-relay.js";

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

test("relays started while every core is busy all start, and each delivers its input and then EOF", { timeout: 120_000 }, async () => {
  const socatPath = findBinary("socat");
  assert.ok(socatPath, "socat is installed (scripts/setup.sh)");
  const tools = { socatPath, sleepPath: findBinary("sleep")! };
  const root = mkdtempSync(join(tmpdir(), "nimbus-relay-busy-"));
  // conmon's attach socket stands in as a SOCK_SEQPACKET listener that keeps
  // what each connection sends, one file per connection (socat's own fork).
  const listener = spawn(socatPath, ["-u", `UNIX-LISTEN:${join(root, "attach")},type=5,fork`, `SYSTEM:cat >> ${join(root, "got")}`], {
    stdio: "ignore",
    detached: true,
  });
  // Bounded load: one busy loop per core, for this test only.
  const hogs = [0, 1].map(() => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  const dirs: string[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const dir = mkdtempSync(join(root, "p-"));
      dirs.push(dir);
      await startStdinRelay(dir, join(root, "attach"), tools);
      const writer = stdinRelayWriter(dir);
      await writer.write(Buffer.from(`line ${i}\n`));
      await endStdinRelay(dir, writer);
    }
    // The listener's side writes once its connection has ended: a moment after the relay went.
    const lines = () => readFileSync(join(root, "got"), "utf8").split("\n").filter(Boolean).sort();
    for (const deadline = Date.now() + 10_000; lines().length < 20 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    const got = lines();
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `line ${i}`).sort());
  } finally {
    for (const h of hogs) h.kill("SIGKILL");
    for (const dir of dirs) await stopStdinRelay(dir);
    try {
      process.kill(-listener.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    rmSync(root, { recursive: true, force: true });
  }
});
