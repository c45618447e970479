/**
 * Attack test for issue 15, finding 6 (exec argv and env show up in the host's `ps`).
 *
 * The attack: an unprivileged local user on the host reads every process's
 * /proc/<pid>/cmdline (as `ps` does) while a tenant's exec runs, and collects
 * the secrets the tenant passed in argv and env. The runtime must get them
 * from a file only root can read (0600 in a 0700 dir), never on a command
 * line; the main process's config.json is 0600 too.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { execCall } from "../testing/exec-call.js";

let env: SandboxEnv;
let id = "";
const MAIN_SECRET = `main-${randomBytes(12).toString("hex")}`;

before(async () => {
  env = await startSandboxEnv();
  await env.tenant("mallory");
  id = (await env.create("mallory", ["sh", "-c", `sleep 1000 # ${MAIN_SECRET}`], { env: [`MAIN_SECRET=${MAIN_SECRET}`] })).metadata.id;
  await env.waitFor("mallory", id, ["ready"]);
});
after(async () => {
  if (id) await env?.remove("mallory", id);
  await env?.close();
});

const hostPidNs = readlinkSync("/proc/self/ns/pid");

/**
 * Every process's command line that contains `needle`. With `hostOnly`, only
 * processes in the host's pid namespace: a sandbox's own processes show their
 * argv to a host `ps` like any container's do (see docs/security.md).
 */
function cmdlinesContaining(needle: string, hostOnly = false): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (hostOnly && readlinkSync(`/proc/${pid}/ns/pid`) !== hostPidNs) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "latin1");
      if (cmd.includes(needle)) hits.push(`${pid}: ${cmd.replace(/\0/g, " ")}`);
    } catch {
      /* gone */
    }
  }
  return hits;
}

/** Files under `dir` (recursively, not into rootfs/upper) that `other` users could read, and whose text holds `needle`. */
function filesHolding(dir: string, needle: string): Array<{ path: string; mode: number }> {
  const out: Array<{ path: string; mode: number }> = [];
  for (const name of readdirSync(dir)) {
    if (["rootfs", "upper", "work", "l"].includes(name)) continue;
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) out.push(...filesHolding(p, needle));
    else if (st.isFile() && st.size < 1 << 20) {
      try {
        if (readFileSync(p, "latin1").includes(needle)) out.push({ path: p, mode: st.mode & 0o777 });
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

test("while an exec with a secret in argv and env runs, no host command line holds it", async () => {
  const argSecret = `exec-arg-${randomBytes(12).toString("hex")}`;
  const envSecret = `exec-env-${randomBytes(12).toString("hex")}`;
  const running = execCall(env, "mallory", id, { argv: ["sh", "-c", `sleep 3; echo done # ${argSecret}`], env: [`SECRET=${envSecret}`] });
  const runtimeState = join(join(env.srv.root, "data"), "runtime");
  const deadline = Date.now() + 2_500;
  let looks = 0;
  let sawFile = false;
  while (Date.now() < deadline) {
    assert.deepEqual(cmdlinesContaining(argSecret, true), [], "the exec's argv is on a host command line");
    assert.deepEqual(cmdlinesContaining(envSecret), [], "the exec's env is on a command line");
    for (const f of [...filesHolding(runtimeState, argSecret), ...filesHolding(runtimeState, envSecret)]) {
      sawFile = true;
      assert.equal(f.mode & 0o077, 0, `${f.path} holds the secret and is mode ${f.mode.toString(8)}: others may read it`);
    }
    looks++;
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await running;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "done\n");
  assert.ok(looks > 5, `looked ${looks} times while the exec ran`);
  assert.deepEqual(
    filesHolding(runtimeState, envSecret),
    [],
    `no file under the state dir still holds the secret after the exec (saw one while it ran: ${sawFile})`,
  );
});

test("the main process's argv and env are on no host command line, and config.json is 0600", async () => {
  assert.deepEqual(cmdlinesContaining(MAIN_SECRET, true), [], "conmon's and the runtime's command lines");
  const config = join(join(env.srv.root, "data"), "runtime", "c", id, "config.json");
  assert.ok(readFileSync(config, "utf8").includes(MAIN_SECRET), "the secret is in the bundle (so its mode matters)");
  assert.equal(statSync(config).mode & 0o777, 0o600, "config.json is readable by its owner only");
});
