/**
 * Acceptance (issue 7): the seed quickstart, word for word. The seed's
 * `sandbox.mjs` (kept byte for byte in `examples/agent-sandbox/`) runs
 * unchanged against the built server on port 8080, its image
 * `docker.io/library/node:22-alpine` served by a loopback registry holding
 * the offline stand-in (testing/standin.ts) through `--registry-mirror`.
 * It must print its four lines, leave the sandbox `stopped` and the session
 * `closed`, and, once the tenant is deleted and the server stopped, nothing
 * on the host. The same flow then runs through the CLI alone (sandbox
 * create, session open, attach, session close, sandbox stop), and last the
 * README's first command, scripts/quickstart.sh, itself.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import { Nimbus } from "@nimbus/nimbus";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer, type ServerProcess } from "../testing/cli.js";
import { startStandinRegistry, STANDIN_REFERENCE } from "../testing/standin.js";
import type { TestRegistry } from "../testing/registry.js";
import { assertNoLeftovers } from "../runtime/leak-check.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const exampleDir = join(repoRoot, "examples", "agent-sandbox");
/** CI clones the repo into its own folder with a copy of shared/ beside it. */
const seedsDir = resolve(repoRoot, "..", "shared", "seeds");
const PORT = 8080; // the seed hardcodes http://localhost:8080
const ULID = "[0-9a-hjkmnp-tv-z]{26}";

const tmp = makeTempRoot("nimbus-quickstart-");
const env = isolatedEnv(tmp.root);
const dataDir = join(tmp.root, "data");
let registry: TestRegistry | undefined;
let server: ServerProcess | undefined;
let admin: Nimbus;
let client: Nimbus;

function token(): string {
  return (JSON.parse(readFileSync(join(tmp.root, "xdg", "nimbus", "auth", "token"), "utf8")) as { token: string }).token;
}

async function portFree(host: string): Promise<boolean | "no-family"> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once("error", (err: NodeJS.ErrnoException) => done(err.code === "EADDRNOTAVAIL" || err.code === "EAFNOSUPPORT" ? "no-family" : false));
    srv.listen(PORT, host, () => srv.close(() => done(true)));
  });
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

before(async () => {
  for (const host of ["127.0.0.1", "::1"]) {
    if ((await portFree(host)) === false) {
      throw new Error(
        `port ${PORT} on ${host} is in use: the seed script hardcodes http://localhost:${PORT}, so this test needs that port free; stop whatever listens there and run again`,
      );
    }
  }
  registry = await startStandinRegistry();
  server = await spawnServer(["--port", String(PORT), "--data-dir", dataDir, "--registry-mirror", `docker.io=${registry.url}`], env);
  assert.equal(server.address, `http://127.0.0.1:${PORT}`);
  admin = new Nimbus({ endpoint: server.address, token: token() });
  client = new Nimbus({ endpoint: server.address, token: token(), tenantId: "demo" });
  // The seed's step 3: POST /api/tenants with the admin token.
  const res = await fetch(`http://localhost:${PORT}/api/tenants`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ id: "demo" }),
  });
  const body = await res.text();
  assert.equal(res.status, 201, body);
  assert.deepEqual(JSON.parse(body), { id: "demo" });
});

// A safety net only: the last test does the same and asserts it.
after(async () => {
  if (server?.child.exitCode === null) {
    await admin?.tenants.delete({ id: "demo" }).catch(() => undefined);
    await server.stop();
  }
  await registry?.stop();
  tmp.cleanup();
});

test("examples/agent-sandbox/sandbox.mjs is the seed's sandbox.mjs byte for byte", (t) => {
  const seed = join(seedsDir, "sandbox.mjs");
  if (!existsSync(seed)) {
    const msg = `SKIPPED: the seeds dir ${seedsDir} is absent, so the example could not be compared with the seed`;
    console.error(`\n*** ${msg} ***\n`);
    return t.skip(msg);
  }
  assert.ok(readFileSync(join(exampleDir, "sandbox.mjs")).equals(readFileSync(seed)), `${exampleDir}/sandbox.mjs differs from ${seed}`);
});

test("the example resolves @nimbus/nimbus to this repository's SDK", async () => {
  const r = await run(process.execPath, ["--input-type=module", "-e", "console.log(import.meta.resolve('@nimbus/nimbus'))"], {
    cwd: exampleDir,
    env,
    timeoutMs: 10_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const resolved = realpathSync(fileURLToPath(r.stdout.trim()));
  assert.equal(resolved, join(realpathSync(repoRoot), "packages", "nimbus", "dist", "index.js"));
});

/**
 * The seed's four lines: `created <id> <state>`, `session <id> expires <iso>`,
 * `attached to <snapshot>` (console.log's formatting, which breaks it over
 * lines), `stopped`. `t0`/`t1` bracket the run, for the five-minute TTL.
 */
function checkSeedOutput(stdout: string, t0: number, t1: number) {
  const m = new RegExp(`^created (agent-task-${ULID}) (pending|starting)\\nsession (\\S+) expires (\\S+)\\nattached to ([\\s\\S]*)\\nstopped\\n$`).exec(stdout);
  assert.ok(m, `unexpected output:\n${stdout}`);
  const [, sandboxId, , sessionId, expiresAt] = m as unknown as [string, string, string, string, string];
  const expires = Date.parse(expiresAt);
  assert.equal(new Date(expires).toISOString(), expiresAt, "expiresAt is an ISO 8601 UTC timestamp");
  assert.ok(expires >= t0 + 300_000 - 1_000 && expires <= t1 + 300_000 + 1_000, `expiresAt ${expiresAt} is about five minutes after the session opened`);
  const snapshot = { sandbox: { id: sandboxId, generation: 1, profile: "worker", backend: "container" } };
  assert.equal(stdout.split("\n").slice(2, -2).join("\n"), format("attached to", snapshot));
  return { sandboxId, sessionId, snapshot };
}

test("the seed script runs unchanged: created, session, attached to, stopped", async () => {
  const t0 = Date.now();
  const r = await run(process.execPath, ["sandbox.mjs"], { cwd: exampleDir, env: { ...env, NIMBUS_TOKEN: token() }, timeoutMs: 240_000 });
  const t1 = Date.now();
  const why = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nserver:\n${server!.output().slice(-4000)}`;
  assert.equal(r.code, 0, why);
  assert.equal(r.stderr, "", why);

  const { sandboxId, sessionId, snapshot } = checkSeedOutput(r.stdout, t0, t1);

  const sandbox = await client.sandboxes.get({ id: sandboxId });
  assert.equal(sandbox.status.lifecycleState, "stopped");
  assert.deepEqual(sandbox.metadata.labels, { purpose: "quickstart" });
  const session = await client.sessions.get({ id: sessionId });
  assert.equal(session.status.lifecycleState, "closed");
  assert.equal(session.status.closeReason, "done");
  assert.deepEqual(session.spec.targetSnapshot, snapshot);
});

/** The CLI commands this repository has now; the flow below skips what is missing. */
async function cliHas(words: string): Promise<boolean> {
  const help = await runNimbus(["--help"], env);
  return new RegExp(`^  ${words}\\s`, "m").test(help.stdout);
}

test("the same flow through the CLI alone: sandbox create, session open, attach, sandbox stop", async (t) => {
  const missing = [];
  for (const c of ["sandbox create", "session open", "session close", "sandbox stop"]) if (!(await cliHas(c))) missing.push(c);
  if (missing.length) return t.skip(`the CLI lacks ${missing.join(", ")}`);
  const nimbus = async (...args: string[]) => {
    const r = await runNimbus(args, { ...env, NIMBUS_TENANT_ID: "demo" });
    assert.equal(r.code, 0, `nimbus ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  // Like the seed's process it runs until stopped; it also answers on stdio, for `nimbus attach`.
  const echo = "process.stdin.on('data', (d) => process.stdout.write('node ' + process.version + ': ' + d))";
  const id = await nimbus("sandbox", "create", STANDIN_REFERENCE, "--name", "agent-task", "--label", "purpose=quickstart", "--wait", "--", "node", "-e", echo);
  assert.match(id, new RegExp(`^agent-task-${ULID}$`));
  const t0 = Date.now();
  const sessionId = await nimbus("session", "open", id, "--channel", "stdio", "--ttl", "5m");
  const session = await client.sessions.get({ id: sessionId });
  assert.deepEqual(session.spec.targetSnapshot, { sandbox: { id, generation: 1, profile: "worker", backend: "container" } });
  assert.ok(Math.abs(Date.parse(session.spec.expiresAt) - (t0 + 300_000)) < 5_000);
  if (await cliHas("attach")) {
    // attach opens its own stdio session; with piped input it detaches once input ended and output went quiet.
    const attached = await runNimbus(["attach", id, "--quiet-after", "500ms"], { ...env, NIMBUS_TENANT_ID: "demo" }, "hello\n");
    assert.equal(attached.code, 0, attached.stderr);
    assert.match(attached.stdout, /^node v22\.\d+\.\d+: hello\n$/);
  } else {
    t.diagnostic("skipped `nimbus attach`: the CLI has no such command yet");
  }
  await nimbus("session", "close", sessionId, "--reason", "done");
  await nimbus("sandbox", "stop", id);
  assert.equal((await client.sandboxes.get({ id })).status.lifecycleState, "stopped");
  assert.equal((await client.sessions.get({ id: sessionId })).status.lifecycleState, "closed");
});

test("nothing is left behind: tenant deleted, server and registry stopped, no mounts, no conmon, temp dirs gone", async () => {
  await admin.tenants.delete({ id: "demo" });
  assert.deepEqual(await admin.tenants.list(), []);
  assert.equal(await server!.stop(), 0, `nimbus start exited non-zero:\n${server!.output().slice(-4000)}`);
  await assertNoLeftovers(join(dataDir, "runtime"));
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.split(" ")[1]?.startsWith(tmp.root));
  assert.deepEqual(mounts, [], "no mounts under the temp root");
  const url = registry!.url;
  await registry!.stop();
  registry = undefined;
  await assert.rejects(fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) }), "the registry no longer answers");
  tmp.cleanup();
  assert.equal(existsSync(tmp.root), false);
  assert.equal(await portFree("127.0.0.1"), true, `port ${PORT} is free again`);
});

/** Processes whose command line mentions `dir` (the server's --data-dir, the registry's storage). */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (argv.includes(dir)) found.push(`${pid} ${argv}`);
    } catch {
      // gone already
    }
  }
  return found;
}

test("scripts/quickstart.sh (the README's first command) prints the seed's four lines, exits 0 and leaves nothing running", async () => {
  const qs = makeTempRoot("nimbus-quickstart-sh-");
  try {
    const qsData = join(qs.root, "data");
    // Setup already ran (scripts/test.sh); the stand-in registry is forced so the run is the same with or without Docker Hub.
    const qsEnv = isolatedEnv(qs.root, {
      NIMBUS_QUICKSTART_SETUP: "0",
      NIMBUS_QUICKSTART_MIRROR: "local",
      NIMBUS_QUICKSTART_DATA_DIR: qsData,
      TMPDIR: qs.root,
    });
    const t0 = Date.now();
    const r = await run("bash", [join(repoRoot, "scripts", "quickstart.sh")], { cwd: repoRoot, env: qsEnv, timeoutMs: 10 * 60_000 });
    const t1 = Date.now();
    assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    checkSeedOutput(r.stdout, t0, t1);
    assert.match(r.stderr, /quickstart: created tenant demo/);
    assert.deepEqual(processesUnder(qs.root), [], "the server and the registry are stopped");
    await assertNoLeftovers(join(qsData, "runtime"));
    assert.equal(await portFree("127.0.0.1"), true, `port ${PORT} is free again`);
    assert.deepEqual(
      readdirSync(qs.root).filter((n) => n.startsWith("nimbus-")),
      [],
      "the script's and the registry's temp dirs are removed",
    );
  } finally {
    qs.cleanup();
  }
});
