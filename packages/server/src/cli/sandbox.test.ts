/**
 * `nimbus sandbox create|ls|get|logs|stop|rm` on the built binary against a
 * real `nimbus start` (crun + conmon) pulling busybox from a loopback
 * registry: --wait, exit codes and logs of a failing process, label
 * filters, stop/rm, and the one-line errors and usage errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { listedIds, runNimbus } from "../testing/cli.js";
import { useCliWorld } from "../testing/cli-world.js";

const w = useCliWorld("cli-sandbox");

let readyId = "";
let failedId = "";

test("create --wait prints an id that get shows ready, with limits and labels applied", async () => {
  const r = await w.nimbus(
    "sandbox",
    "create",
    "busybox",
    "--wait",
    "--name",
    "Main Box",
    "--memory",
    "64m",
    "--cpus",
    "0.5",
    "--label",
    "suite=cli",
    "--label",
    "role=main",
    "--env",
    "GREETING=hello",
    "--",
    "sleep",
    "600",
  );
  assert.equal(r.code, 0, r.stderr);
  readyId = r.stdout.trim();
  assert.match(readyId, /^main-box-[0-9a-z]{26}$/);
  const got = await w.nimbus("sandbox", "get", readyId, "--json");
  assert.equal(got.code, 0, got.stderr);
  const s = JSON.parse(got.stdout);
  assert.equal(s.status.lifecycleState, "ready");
  assert.equal(s.spec.sandbox.resources.memoryLimitBytes, 64 * 2 ** 20);
  assert.equal(s.spec.sandbox.resources.cpuCount, 0.5);
  assert.deepEqual(s.metadata.labels, { suite: "cli", role: "main" });
  assert.equal(s.spec.sandbox.process.argv.valueCount, 2);
  assert.equal(s.spec.sandbox.process.environment.valueCount >= 1, true);
  const human = await w.nimbus("sandbox", "get", readyId);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^state: +ready \(readiness ready, health healthy\)$/m);
  assert.match(human.stdout, /^image digest: +sha256:[0-9a-f]{64}$/m);
  assert.match(human.stdout, /^labels: +suite=cli,role=main$/m);
  assert.match(human.stdout, /^ {2}Ready=True/m);
});

test("a process that exits 4: logs split stdout from stderr, get shows failed with exit code 4", async () => {
  const r = await w.nimbus("sandbox", "create", "busybox", "--label", "suite=cli", "--label", "role=fails", "--", "sh", "-c", "echo hi; echo oops >&2; exit 4");
  assert.equal(r.code, 0, r.stderr);
  failedId = r.stdout.trim();
  const s = await w.waitForState(failedId, ["failed", "stopped"]);
  assert.equal(s.status.lifecycleState, "failed");
  assert.equal(s.status.exitCode, 4);
  assert.equal(s.status.reason, "exited");
  const logs = await w.nimbus("sandbox", "logs", failedId);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, "hi\n");
  assert.equal(logs.stderr, "oops\n");
  const tail = await w.nimbus("sandbox", "logs", failedId, "--follow", "--tail", "1");
  assert.equal(tail.code, 0, tail.stderr);
  assert.equal(tail.stdout + tail.stderr, "oops\n", "follow ends once the sandbox has ended; --tail 1 keeps only the last line");
  const human = await w.nimbus("sandbox", "get", failedId);
  assert.match(human.stdout, /^state: +failed/m);
  assert.match(human.stdout, /^reason: +exited$/m);
  assert.match(human.stdout, /^exit code: +4$/m);
});

test("create --wait fails with exit 1 and the reason when the sandbox never gets ready", async () => {
  const r = await w.nimbus("sandbox", "create", "no-such-image-anywhere", "--wait", "--timeout", "60s", "--label", "suite=cli");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^sandbox-[0-9a-z]{26}$/, "the id is printed before waiting, so the user can inspect it");
  assert.match(r.stderr, new RegExp(`sandbox ${id} ended failed before it was ready \\(reason pull_failed\\)`));
  assert.equal((await w.nimbus("sandbox", "rm", id)).code, 0);
});

test("create --wait on a failed start prints the runtime's error and exits 1; logs shows that error too", async () => {
  const r = await w.nimbus("sandbox", "create", "busybox", "--wait", "--label", "suite=cli", "--", "definitely-not-installed");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const id = r.stdout.trim();
  assert.match(r.stderr, new RegExp(`sandbox ${id} ended failed before it was ready \\(reason start_failed\\)`));
  assert.match(r.stderr, /definitely-not-installed/, "the runtime's error names what could not run");
  assert.match(r.stderr, new RegExp(`nimbus sandbox logs ${id}`));
  const logs = await w.nimbus("sandbox", "logs", id);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stderr, /start_failed: .*definitely-not-installed/);
  assert.equal((await w.nimbus("sandbox", "rm", id)).code, 0);
});

test("ls --json filters by label and status; the table shows id, state and labels", async () => {
  const byLabel = await w.nimbus("sandbox", "ls", "--json", "--label", "role=main");
  assert.equal(byLabel.code, 0, byLabel.stderr);
  assert.deepEqual(listedIds(byLabel), [readyId]);
  const byKey = await w.nimbus("sandbox", "ls", "--json", "--label", "role");
  assert.deepEqual(listedIds(byKey).sort(), [readyId, failedId].sort());
  const failed = await w.nimbus("sandbox", "ls", "--json", "--status", "failed");
  assert.deepEqual(listedIds(failed), [failedId]);
  const table = await w.nimbus("sandbox", "ls", "-T", w.tenant);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ID +STATE +REASON +IMAGE +CREATED +LABELS$/m);
  assert.match(table.stdout, new RegExp(`^${failedId} +failed +exited +busybox +\\S+ +suite=cli,role=fails$`, "m"));
  const badStatus = await w.nimbus("sandbox", "ls", "--status", "sleeping");
  assert.equal(badStatus.code, 2);
  assert.match(badStatus.stderr, /--status/);
});

test("stop with --grace, then rm of several ids; the sandboxes are gone", async () => {
  const stop = await w.nimbus("sandbox", "stop", readyId, "--grace", "500ms");
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, new RegExp(`^${readyId} stopped`));
  assert.equal((await w.waitForState(readyId, ["stopped"])).status.lifecycleState, "stopped");
  const again = await w.nimbus("sandbox", "stop", readyId);
  assert.equal(again.code, 0, "stop is idempotent");
  const rm = await w.nimbus("sandbox", "rm", readyId, failedId);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout, `deleted ${readyId}\ndeleted ${failedId}\n`);
  const gone = await w.nimbus("sandbox", "get", readyId);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /op\.not_found/);
});

test("a nonexistent id is one line on stderr with op.not_found and exit 1, for every command", async () => {
  for (const args of [
    ["get", "nope-1"],
    ["logs", "nope-1"],
    ["stop", "nope-1"],
    ["rm", "nope-1"],
  ]) {
    const r = await w.nimbus("sandbox", ...args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^nimbus sandbox \w+: .*nope-1.* \(op\.not_found, request req_\S+\)\n$/, r.stderr);
  }
  const partial = await w.nimbus("sandbox", "rm", "nope-2", "nope-3");
  assert.equal(partial.code, 1);
  assert.equal(partial.stderr.trim().split("\n").length, 2, "rm reports each id and keeps going");
});

test("bad values are usage errors (exit 2) naming the flag; a missing tenant names --tenant and NIMBUS_TENANT_ID", async () => {
  for (const [flag, value] of [
    ["memory", "12q"],
    ["memory", "0"],
    ["cpus", "0"],
    ["pids", "1.5"],
    ["timeout", "soon"],
    ["profile", "gpu"],
  ] as const) {
    const r = await w.nimbus("sandbox", "create", "busybox", `--${flag}`, value);
    assert.equal(r.code, 2, `--${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^nimbus sandbox create: --${flag}: `));
  }
  for (const [args, flag] of [
    [["stop", "x", "--grace", "10 seconds"], "grace"],
    [["logs", "x", "--tail", "many"], "tail"],
    [["create", "busybox", "--label", "novalue"], "label"],
  ] as const) {
    const r = await w.nimbus("sandbox", ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`--${flag}`));
  }
  const env = { ...w.env };
  delete env.NIMBUS_TENANT_ID;
  const r = await runNimbus(["sandbox", "ls"], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--tenant/);
  assert.match(r.stderr, /NIMBUS_TENANT_ID/);
});
