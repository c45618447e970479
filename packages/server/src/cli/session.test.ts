/**
 * `nimbus session open|ls|get|close` on the built binary against a real
 * `nimbus start` with a ready busybox sandbox: the lease's id and expiry,
 * listing, idempotent close, and errors for bad values and unready targets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { listedIds } from "../testing/cli.js";
import { useCliWorld } from "../testing/cli-world.js";

let sandboxId = "";
const w = useCliWorld("cli-session", async (started) => {
  sandboxId = await started.createReady(["sleep", "600"]);
});

let sessionId = "";

test("open prints the id and expiresAt; the lease is ~5 minutes for --ttl 5m", async () => {
  const before = Date.now();
  const r = await w.nimbus("session", "open", sandboxId, "--ttl", "5m", "--channel", "stdio", "--channel", "exec");
  assert.equal(r.code, 0, r.stderr);
  sessionId = r.stdout.trim();
  assert.match(sessionId, /^\S+$/);
  const expiresAt = /expires at (\S+)$/m.exec(r.stderr)?.[1];
  assert.ok(expiresAt, r.stderr);
  const lease = Date.parse(expiresAt) - before;
  assert.ok(lease > 290_000 && lease <= 305_000, `lease of ${lease} ms`);
  const got = await w.nimbus("session", "get", sessionId, "--json");
  assert.equal(got.code, 0, got.stderr);
  const s = JSON.parse(got.stdout);
  assert.equal(s.spec.expiresAt, expiresAt);
  assert.deepEqual(s.spec.channels, ["stdio", "exec"]);
  assert.equal(s.spec.targetSnapshot.sandbox.id, sandboxId);
  const json = await w.nimbus("session", "open", sandboxId, "--json");
  assert.equal(json.code, 0, json.stderr);
  const other = JSON.parse(json.stdout);
  assert.deepEqual(other.spec.channels, ["stdio"], "stdio is the default channel");
  assert.equal((await w.nimbus("session", "close", other.metadata.id)).code, 0);
});

test("ls --json shows the open session; the table names its target", async () => {
  const r = await w.nimbus("session", "ls", "--json", "--status", "open");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(listedIds(r), [sessionId]);
  const table = await w.nimbus("session", "ls");
  assert.match(table.stdout, /^ID +STATE +TARGET +CHANNELS +EXPIRES +CREATED$/m);
  assert.match(table.stdout, new RegExp(`^${sessionId} +open +sandbox ${sandboxId} +stdio,exec `, "m"));
  const human = await w.nimbus("session", "get", sessionId);
  assert.match(human.stdout, /^state: +open$/m);
  assert.match(human.stdout, new RegExp(`^pinned: +sandbox ${sandboxId} generation \\d+$`, "m"));
});

test("close twice: both exit 0, the second leaves the record unchanged; the sandbox keeps running", async () => {
  const first = await w.nimbus("session", "close", sessionId, "--reason", "done");
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${sessionId} closed (done)\n`);
  const second = await w.nimbus("session", "close", sessionId);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  const closed = await w.nimbus("session", "ls", "--json", "--status", "closed");
  assert.ok(JSON.parse(closed.stdout).some((s: any) => s.metadata.id === sessionId));
  const open = await w.nimbus("session", "ls", "--json", "--status", "open");
  assert.deepEqual(JSON.parse(open.stdout), []);
  assert.equal((await w.waitForState(sandboxId, ["ready"], 1000)).status.lifecycleState, "ready");
});

test("bad --ttl and --channel are usage errors; a missing session or unready sandbox is exit 1 with its code", async () => {
  for (const [flag, value] of [
    ["ttl", "5 minutes"],
    ["channel", "tty"],
    ["status", "gone"],
  ] as const) {
    const args = flag === "status" ? ["session", "ls", "--status", value] : ["session", "open", sandboxId, `--${flag}`, value];
    const r = await w.nimbus(...args);
    assert.equal(r.code, 2, `--${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`--${flag}: `));
  }
  const missing = await w.nimbus("session", "get", "no-such-session");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\(op\.not_found, request req_\S+\)$/m);
  const stopped = await w.nimbus("sandbox", "create", "busybox", "--", "true");
  const id = stopped.stdout.trim();
  await w.waitForState(id, ["stopped"]);
  const r = await w.nimbus("session", "open", id);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ready sandbox.*\(op\.conflict, request req_\S+\)$/m);
});
