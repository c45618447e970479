/**
 * `nimbus exec -i`/`-t`/`-it` (issue 18, CLI: Docker habits) on the built
 * binary against a real server (crun + conmon, the busybox fixture): with
 * pipes, input reaches the command and its end closes the command's stdin
 * (`echo hi | nimbus exec -i ID cat`); under a real pseudo-terminal
 * (util-linux `script`) `exec -it ID sh` shows a prompt, sees a terminal of
 * this terminal's size, passes Ctrl-C to it, and exits on Ctrl-D with the
 * shell's exit code; when nimbus is killed the command is killed with it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { useCliWorld } from "../testing/cli-world.js";
import { NIMBUS_BIN, runNimbus } from "../testing/cli.js";

let id = "";
const world = useCliWorld("cli-exec-tty", async (started) => {
  id = await started.createReady(["sleep", "100000"]);
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("echo hi | nimbus exec -i ID cat prints hi and exits 0: the end of input closes cat's stdin", async () => {
  const r = await runNimbus(["exec", "-i", id, "cat"], world.env, "hi\n");
  assert.equal(r.stdout, "hi\n", r.stderr);
  assert.equal(r.code, 0, r.stderr);
  const many = await runNimbus(["exec", "-i", id, "sh", "-c", "wc -l; echo err >&2; exit 4"], world.env, "a\n".repeat(5000));
  assert.equal(many.stdout.trim(), "5000");
  assert.equal(many.stderr, "err\n", "stderr stays separate without a terminal");
  assert.equal(many.code, 4);
});

test("nimbus exec -i forwards input as it comes, not once it ended", async () => {
  const child = spawn(process.execPath, [NIMBUS_BIN, "exec", "-i", id, "cat"], { env: world.env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  try {
    child.stdin.write("one\n");
    await until(() => out === "one\n", `cat echoed the first line while input stays open: ${JSON.stringify(out)}`, 30_000);
    child.stdin.end("two\n");
    assert.equal(await exited, 0);
    assert.equal(out, "one\ntwo\n");
  } finally {
    child.kill("SIGKILL");
  }
});

test("nimbus exec -t with pipes gives the command a terminal without touching this side", async () => {
  const r = await runNimbus(["exec", "-t", id, "sh", "-c", "test -t 0 && test -t 1 && echo tty; stty size"], world.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.replace(/\r/g, ""), "tty\n24 80\n");
});

test("nimbus exec of a missing binary with -i exits 127 with the runtime's reason", async () => {
  const r = await runNimbus(["exec", "-i", id, "definitely-not-installed"], world.env);
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /definitely-not-installed/);
});

/**
 * `nimbus exec -it ID sh` under a real pseudo-terminal (util-linux script),
 * after the shell command `setup`; `prompted()` resolves once the shell shows
 * its prompt.
 */
function shellUnderPty(setup?: string) {
  const nimbus = [process.execPath, NIMBUS_BIN, "exec", "-it", id, "sh"].map((a) => `'${a}'`).join(" ");
  const cmd = setup ? `${setup}; exec ${nimbus}` : nimbus;
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { env: { ...world.env, TERM: "xterm" }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const prompted = async () => {
    // Enter asks the shell for a new prompt if the first one was missed, as a user would.
    const nudge = setInterval(() => child.stdin.write("\r"), 5000);
    try {
      await until(() => /\/ # /.test(out), `no prompt in ${JSON.stringify(out)}`);
    } finally {
      clearInterval(nudge);
    }
  };
  return { child, output: () => out, exited, prompted };
}

test("nimbus exec -it ID sh under a pseudo-terminal: prompt, the terminal's size, Ctrl-C to the shell, its exit code", async () => {
  const { child, output, exited, prompted } = shellUnderPty("stty cols 100 rows 30");
  try {
    await prompted();
    child.stdin.write("stty size; echo mark-$((6*7))\r");
    await until(() => /30 100\r*\n/.test(output()) && /mark-42\r*\n/.test(output()), `no size or mark in ${JSON.stringify(output())}`);
    // Raw mode on this side: Ctrl-C reaches the shell's terminal (it interrupts `sleep`), nimbus stays.
    // (Typed ahead, the echo would only run once `sleep` ended, 30 s later.)
    child.stdin.write("sleep 30\r");
    await new Promise((r) => setTimeout(r, 1000));
    child.stdin.write("\x03");
    child.stdin.write("echo after-$((1+1))\r");
    await until(() => /after-2\r*\n/.test(output()), `Ctrl-C did not reach the shell: ${JSON.stringify(output())}`, 20_000);
    child.stdin.write("exit 7\r");
    assert.equal(await exited, 7, output());
  } finally {
    child.kill("SIGKILL");
  }
});

test("Ctrl-D on an interactive shell ends it with exit code 0", async () => {
  const { child, output, exited, prompted } = shellUnderPty();
  try {
    await prompted();
    child.stdin.write("\x04");
    assert.equal(await exited, 0, output());
  } finally {
    child.kill("SIGKILL");
  }
});

test("when nimbus exec -i dies (SIGKILL), the command in the sandbox is killed too", async () => {
  const child = spawn(process.execPath, [NIMBUS_BIN, "exec", "-i", id, "sleep", "6017"], { env: world.env, stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.on("close", resolve));
  const running = async () => (await world.nimbus("exec", id, "ps")).stdout.includes("sleep 6017");
  try {
    await until(running, "the command started");
  } finally {
    child.kill("SIGKILL");
  }
  await exited;
  await until(async () => !(await running()), "the command was killed once nimbus was gone", 15_000);
});
