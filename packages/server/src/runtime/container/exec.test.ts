// runCommand: the output, exit code and signal of a short-lived host command
// (spawned without forking the server), its timeout, and a clear error when the
// program does not exist.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChecked, runCommand } from "./exec.js";

test("stdout, stderr and the exit code come back; stdin is empty", async () => {
  const r = await runCommand("sh", ["-c", "cat; echo out; echo err >&2; exit 3"]);
  assert.deepEqual(r, { code: 3, stdout: "out\n", stderr: "err\n" });
});

test("cwd and env are the child's", async () => {
  const r = await runCommand("/bin/sh", ["-c", 'pwd; echo "$NIMBUS_X"'], { cwd: "/tmp", env: { NIMBUS_X: "y", PATH: "/usr/bin:/bin" } });
  assert.equal(r.stdout, "/tmp\ny\n");
});

test("a command past its timeout is killed and says so", async () => {
  const t0 = Date.now();
  const r = await runCommand("sleep", ["10"], { timeoutMs: 100 });
  assert.ok(Date.now() - t0 < 5_000);
  assert.equal(r.code, 128 + 9);
  assert.match(r.stderr, /killed by SIGKILL after the timeout/);
});

test("a missing program rejects with ENOENT; runChecked throws with the output", async () => {
  await assert.rejects(runCommand("nimbus-no-such-program", []), { code: "ENOENT" });
  await assert.rejects(runCommand("/nonexistent/prog", []), { code: "ENOENT" });
  await assert.rejects(runChecked("sh", ["-c", "echo nope >&2; exit 1"]), /exited 1: nope/);
});

test("40 at once all complete, each with its own output", async () => {
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => runCommand("echo", [String(i)])));
  assert.deepEqual(
    rs.map((r) => r.stdout.trim()),
    Array.from({ length: 40 }, (_, i) => String(i)),
  );
});
