/**
 * Acceptance 2 of issue 18 and the CLI's Docker habits, on the built binary
 * against a real server (crun + conmon, the busybox fixture as `busybox`):
 * `echo hi | nimbus run --rm busybox cat` prints `hi`, exits 0 and leaves no
 * sandbox; `nimbus run -it --rm busybox sh` under a real pseudo-terminal
 * (util-linux `script`) shows a prompt, runs a command, exits on Ctrl-D and
 * leaves no sandbox; `run` passes exit codes and flags of the command through;
 * `ps` lists running sandboxes (-a all, -q ids, --filter label=); `-t` where
 * it used to mean the tenant gets a hint.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startCliWorld, type CliWorld } from "../testing/cli-world.js";
import { NIMBUS_BIN, runNimbus } from "../testing/cli.js";

let world: CliWorld;

before(async () => {
  world = await startCliWorld("cli-run");
});
after(() => world?.close());

/** Every sandbox id of the tenant, ended ones included. */
async function allIds(): Promise<string[]> {
  const r = await world.nimbus("ps", "-a", "-q");
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

test("echo hi | nimbus run --rm busybox cat prints hi, exits 0 as cat does, and the sandbox is gone", async () => {
  const before = await allIds();
  const r = await runNimbus(["run", "--rm", "busybox", "cat"], world.env, "hi\n");
  assert.equal(r.stdout, "hi\n", r.stderr);
  assert.doesNotMatch(r.stderr, /detaching/, "cat ended because its stdin was closed, not because nimbus detached");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await allIds(), before, "--rm deleted the sandbox");
});

test("nimbus run passes the command's flags and exit code through; without --rm the sandbox stays", async () => {
  const r = await runNimbus(["run", "--name", "flags", "-e", "X=42", "busybox", "sh", "-c", "echo x=$X; echo err >&2; exit 3"], world.env);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, "x=42\n");
  assert.match(r.stderr, /err/);
  const ids = await allIds();
  assert.ok(
    ids.some((id) => id.startsWith("flags")),
    `a sandbox named flags is kept: ${ids.join(",")}`,
  );
});

test("nimbus run of a command that cannot start prints why and exits non-zero", async () => {
  const r = await runNimbus(["run", "--rm", "busybox", "definitely-not-installed"], world.env);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /definitely-not-installed/);
});

test("nimbus run -it --rm busybox sh under a pseudo-terminal: prompt, a command, Ctrl-D exits, sandbox gone", async () => {
  const before = await allIds();
  const cmd = [process.execPath, NIMBUS_BIN, "run", "-it", "--rm", "busybox", "sh"].map((a) => `'${a}'`).join(" ");
  // script(1) gives nimbus a real terminal; -e returns nimbus's exit code.
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { env: { ...world.env, TERM: "xterm" }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const waitFor = async (re: RegExp, what: string) => {
    const deadline = Date.now() + 60_000;
    while (!re.test(out)) {
      assert.ok(Date.now() < deadline, `no ${what} in: ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    // The banner and first prompt are sometimes missing from the replay of a
    // terminal sandbox's first output (a server-side race, reported by the
    // helper); Enter asks the shell for a new prompt, as a user would.
    await waitFor(/\/ # |attached/, "attachment");
    const nudge = setTimeout(() => child.stdin.write("\r"), 5000);
    await waitFor(/\/ # /, "prompt");
    clearTimeout(nudge);
    child.stdin.write("echo mark-$((6*7))\r");
    await waitFor(/mark-42\r*\n/, "command output");
    child.stdin.write("\x04");
    assert.equal(await exited, 0, out);
  } finally {
    child.kill("SIGKILL");
  }
  assert.deepEqual(await allIds(), before, "--rm deleted the sandbox");
});

test("Ctrl-C (SIGINT) on nimbus run --rm with pipes deletes the sandbox and exits 130", async () => {
  const before = await allIds();
  const child = spawn(process.execPath, [NIMBUS_BIN, "run", "--rm", "--name", "interrupted", "busybox", "sleep", "600"], {
    env: world.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve((code = c))));
  try {
    const deadline = Date.now() + 60_000;
    while (!(await allIds()).some((id) => id.startsWith("interrupted"))) {
      assert.equal(code, undefined, `nimbus run ended (${code}) before its sandbox was seen: ${err}`);
      assert.ok(Date.now() < deadline, `the sandbox was created: ${err}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Let run get past create and into waiting/attaching.
    await new Promise((r) => setTimeout(r, 1000));
    child.kill("SIGINT");
    assert.equal(await exited, 130);
  } finally {
    child.kill("SIGKILL");
  }
  assert.deepEqual(await allIds(), before, "--rm deleted the sandbox");
});

test("nimbus run -t refuses a non-terminal stdin with a way out", async () => {
  const r = await runNimbus(["run", "-t", "busybox", "sh"], world.env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /drop -t/);
});

test("nimbus ps lists running sandboxes; -a adds ended ones, -q prints ids, --filter label= narrows", async () => {
  const run = await world.nimbus("sandbox", "create", "busybox", "--wait", "--label", "ps=yes", "--", "sleep", "600");
  assert.equal(run.code, 0, run.stderr);
  const running = run.stdout.trim();
  const ended = await runNimbus(["run", "-l", "ps=yes", "busybox", "true"], world.env);
  assert.equal(ended.code, 0, ended.stderr);
  const ids = async (...args: string[]) => {
    const r = await world.nimbus("ps", "-q", "--filter", "label=ps=yes", ...args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split("\n").filter(Boolean);
  };
  assert.deepEqual(await ids(), [running]);
  const all = await ids("-a");
  assert.equal(all.length, 2);
  assert.ok(all.includes(running));
  assert.deepEqual(
    await ids("--filter", "status=stopped"),
    all.filter((i) => i !== running),
  );
  const table = await world.nimbus("ps");
  assert.match(table.stdout, /^ID +STATE/);
  assert.match(table.stdout, new RegExp(`${running} +ready`));
  assert.doesNotMatch(table.stdout, /stopped/, "ps hides ended sandboxes");
  const bad = await world.nimbus("ps", "--filter", "name=x");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /label=KEY\[=VALUE\] or status=STATE/);
});

test("-t where it meant the tenant, and sandbox flags before `--`, get hints", async () => {
  const old = await world.nimbus("sandbox", "ls", "-t", world.tenant);
  assert.equal(old.code, 2);
  assert.match(old.stderr, /`-t` now means `--tty`.*--tenant ID.*-T ID.*NIMBUS_TENANT/);
  const byFlag = await runNimbus(["sandbox", "ls", "-T", world.tenant, "-q"], { ...world.env, NIMBUS_TENANT_ID: "" });
  assert.equal(byFlag.code, 0, byFlag.stderr);
  const byEnv = await runNimbus(["ps", "-a"], { ...world.env, NIMBUS_TENANT_ID: "", NIMBUS_TENANT: world.tenant });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  const flags = await world.nimbus("sandbox", "create", "busybox", "sh", "-c", "true");
  assert.equal(flags.code, 2);
  assert.match(
    flags.stderr,
    /unknown option '-c'\. If it is meant for the command in the sandbox, put the command after `--`: nimbus sandbox create … -- sh -c true/,
  );
});
