// e2e/lifetimes.test.ts — sandbox lifetimes (issue 18, acceptance 3) on real
// crun + conmon: a TTL stops the sandbox on time with reason `expired`, the
// deadline survives a server restart (and one that passed while the server was
// down fires at start), an idle timeout fires with no activity and not while a
// session streams, `extend` moves the deadline, delete of a PID 1 that ignores
// SIGTERM finishes within its grace period, and `init: true` puts catatonit
// in as PID 1 (signals forwarded, zombies reaped).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { findBinary } from "../runtime/container/exec.js";
import { execCall } from "../testing/exec-call.js";
import { startSandboxEnv, standaloneSandboxBody, BUSYBOX, type SandboxEnv } from "../testing/sandbox-env.js";
import { setTimeout as sleep } from "node:timers/promises";

const skip = (process.getuid?.() !== 0 || !findBinary("crun") || !findBinary("catatonit")) && "needs root, crun and catatonit";
const T = "lifetimes-e2e";
let env: SandboxEnv;

before(async () => {
  if (skip) return;
  env = await startSandboxEnv();
  await env.tenant(T);
});
after(async () => {
  await env?.close();
});

/** A process that ends at once on SIGTERM (the shell runs its trap between short sleeps). */
const POLITE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"];

async function create(process: Record<string, unknown>, lifetime?: Record<string, unknown>): Promise<any> {
  const body = standaloneSandboxBody(BUSYBOX, "life", process, lifetime ? { lifetime } : {});
  const r = await env.srv.request("POST", `/api/tenants/${T}/sandboxes`, { body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

const get = async (id: string) => (await env.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).body;

async function remove(id: string): Promise<void> {
  const r = await env.srv.request("DELETE", `/api/tenants/${T}/sandboxes/${id}?gracePeriodMs=0`);
  assert.ok([204, 404].includes(r.status), JSON.stringify(r.body));
}

test("acceptance 3: a sandbox with ttlSeconds 5 is stopped at 5 s ± 1, reason expired", { skip }, async () => {
  const t0 = Date.now();
  const s = await create({ argv: POLITE }, { ttlSeconds: 5 });
  const id = s.metadata.id;
  assert.equal(s.spec.sandbox.lifetime.ttlSeconds, 5);
  assert.equal(s.spec.sandbox.lifetime.onExpire, "stop");
  const expiresMs = Date.parse(s.status.expiresAt);
  assert.ok(Math.abs(expiresMs - (t0 + 5000)) < 1000, `expiresAt ${s.status.expiresAt} is 5 s after create`);
  await env.waitFor(T, id, ["ready"]);
  const done = await env.waitFor(T, id, ["stopped", "failed"], 15_000);
  const elapsed = Date.now() - t0;
  assert.equal(done.status.lifecycleState, "stopped", JSON.stringify(done.status));
  assert.equal(done.status.reason, "expired");
  assert.match(done.status.conditions[0].message, /expired: its TTL ran out/);
  assert.ok(elapsed >= 4_900 && elapsed <= 6_000, `stopped ${elapsed} ms after create (want 5000 ± 1000)`);
  await remove(id);
});

test("onExpire delete removes the sandbox; extend moves the deadline and is bounded", { skip }, async () => {
  const s = await create({ argv: POLITE }, { ttlSeconds: 3, onExpire: "delete" });
  const id = s.metadata.id;
  await env.waitFor(T, id, ["ready"]);
  const before = Date.parse(s.status.expiresAt);
  const ext = await env.srv.request("POST", `/api/tenants/${T}/sandboxes/${id}/extend`, { body: { addSeconds: 2 } });
  assert.equal(ext.status, 200, JSON.stringify(ext.body));
  assert.equal(Date.parse(ext.body.status.expiresAt), before + 2000);
  const tooFar = await env.srv.request("POST", `/api/tenants/${T}/sandboxes/${id}/extend`, {
    body: { expiresAt: new Date(Date.now() + 8 * 86400_000).toISOString() },
  });
  assert.equal(tooFar.status, 400);
  assert.match(tooFar.body.error.message, /at most 604800 seconds/);
  const both = await env.srv.request("POST", `/api/tenants/${T}/sandboxes/${id}/extend`, { body: {} });
  assert.equal(both.status, 400);
  // Not gone at the original 3 s…
  await sleep(Math.max(0, before - Date.now() + 700));
  assert.equal((await env.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).status, 200, "extended: still there after the first deadline");
  // …but gone soon after the extended 5 s.
  const deadline = Date.now() + 6_000;
  while ((await env.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).status !== 404) {
    assert.ok(Date.now() < deadline, "onExpire delete removed the sandbox");
    await sleep(100);
  }
});

test("the TTL survives a restart, and a deadline that passed while the server was down fires at start", { skip }, async () => {
  const onTime = await create({ argv: POLITE }, { ttlSeconds: 4 });
  const whileDown = await create({ argv: POLITE }, { ttlSeconds: 2 });
  await env.waitFor(T, onTime.metadata.id, ["ready"]);
  await env.waitFor(T, whileDown.metadata.id, ["ready"]);
  await env.restart({ downMs: 2_500 });
  const t1 = Date.now();
  const late = await env.waitFor(T, whileDown.metadata.id, ["stopped", "failed"], 10_000);
  assert.equal(late.status.reason, "expired");
  assert.ok(Date.now() - t1 < 3_000, "the lapsed deadline fired at start");
  const done = await env.waitFor(T, onTime.metadata.id, ["stopped", "failed"], 10_000);
  assert.equal(done.status.reason, "expired");
  const lateBy = Date.now() - Date.parse(onTime.status.expiresAt);
  assert.ok(lateBy > -300 && lateBy < 1_500, `stopped ${lateBy} ms after its stored deadline`);
  await remove(onTime.metadata.id);
  await remove(whileDown.metadata.id);
});

test("idle timeout: fires with no activity, not while a session streams, and again once it closes", { skip }, async () => {
  const quiet = await create({ argv: POLITE }, { idleTimeoutSeconds: 2 });
  const busy = await create({ argv: ["sh", "-c", "trap 'exit 0' TERM; while :; do echo tick; sleep 0.2; done"] }, { idleTimeoutSeconds: 2 });
  await env.waitFor(T, quiet.metadata.id, ["ready"]);
  await env.waitFor(T, busy.metadata.id, ["ready"]);
  const readyAt = Date.now();
  assert.ok((await get(busy.metadata.id)).status.idleExpiresAt, "status names the idle deadline");
  const open = await env.srv.request("POST", "/api/sessions", { body: { tenantId: T, target: { sandbox: { id: busy.metadata.id } }, channels: ["stdio"] } });
  assert.equal(open.status, 201, JSON.stringify(open.body));
  const sid = open.body.metadata.id;
  const abort = new AbortController();
  let received = 0;
  const streaming = fetch(`${env.srv.url}/api/sessions/${sid}/channels/stdio/stream?tenantId=${T}`, {
    headers: { authorization: `Bearer ${env.srv.token()}` },
    signal: abort.signal,
  })
    .then(async (res) => {
      for await (const chunk of res.body!) received += (chunk as Uint8Array).length;
    })
    .catch(() => undefined);

  const q = await env.waitFor(T, quiet.metadata.id, ["stopped", "failed"], 10_000);
  assert.equal(q.status.reason, "expired");
  assert.match(q.status.conditions[0].message, /idle/);
  const quietAfter = Date.now() - readyAt;
  assert.ok(quietAfter < 4_500, `idle sandbox expired ${quietAfter} ms after ready`);

  await sleep(Math.max(0, readyAt + 5_000 - Date.now()));
  assert.equal((await get(busy.metadata.id)).status.lifecycleState, "ready", "a sandbox with a streaming session is not idle (2.5× its timeout)");
  assert.ok(received > 0, "the session was streaming");
  abort.abort();
  await streaming;
  const closedAt = Date.now();
  await env.srv.request("POST", `/api/sessions/${sid}/close?tenantId=${T}`, { body: {} });
  const b = await env.waitFor(T, busy.metadata.id, ["stopped", "failed"], 10_000);
  assert.equal(b.status.reason, "expired");
  const busyAfter = Date.now() - closedAt;
  assert.ok(busyAfter >= 1_500, `idle counts from the session's end (${busyAfter} ms)`);
  await remove(quiet.metadata.id);
  await remove(busy.metadata.id);
});

test("acceptance 3: delete of a PID 1 that ignores SIGTERM completes within its grace period", { skip }, async () => {
  // `sleep` as PID 1 has no SIGTERM handler, so the kernel drops SIGTERM: only SIGKILL ends it.
  const s = await create({ argv: ["sleep", "1000"] });
  await env.waitFor(T, s.metadata.id, ["ready"]);
  const t0 = Date.now();
  const r = await env.srv.request("DELETE", `/api/tenants/${T}/sandboxes/${s.metadata.id}?gracePeriodMs=1500`);
  const elapsed = Date.now() - t0;
  assert.equal(r.status, 204, JSON.stringify(r.body));
  assert.ok(elapsed >= 1_400, `SIGTERM was ignored, so delete waited for the grace period (${elapsed} ms)`);
  assert.ok(elapsed < 1_500 + 2_500, `delete took ${elapsed} ms for a 1500 ms grace period`);

  const force = await create({ argv: ["sleep", "1000"] });
  await env.waitFor(T, force.metadata.id, ["ready"]);
  const t1 = Date.now();
  assert.equal((await env.srv.request("DELETE", `/api/tenants/${T}/sandboxes/${force.metadata.id}?gracePeriodMs=0`)).status, 204);
  assert.ok(Date.now() - t1 < 2_500, `gracePeriodMs=0 kills at once (${Date.now() - t1} ms)`);
});

test("init: true runs catatonit as PID 1: SIGTERM reaches the process and zombies are reaped", { skip }, async () => {
  // The shell leaves an orphan, then becomes `sleep`, which never reaps: only a real init does.
  const argv = ["sh", "-c", "(sleep 0.2 &); exec sleep 1000"];
  const withInit = await create({ argv, init: true });
  const without = await create({ argv });
  await env.waitFor(T, withInit.metadata.id, ["ready"]);
  await env.waitFor(T, without.metadata.id, ["ready"]);
  assert.equal(withInit.spec.sandbox.process.init, true);
  await sleep(1_000);
  const probe = ["sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; echo zombies=$(cat /proc/[0-9]*/stat | awk '$3 == \"Z\"' | wc -l)"];
  const inside = await execCall(env, T, withInit.metadata.id, { argv: probe });
  assert.equal(inside.exitCode, 0, inside.stderr);
  assert.match(inside.stdout, /^\/dev\/init -- sh -c /, inside.stdout);
  assert.match(inside.stdout, /zombies=0/, inside.stdout);
  // The control: without init the orphan stays a zombie, so the probe can tell.
  const control = await execCall(env, T, without.metadata.id, { argv: probe });
  assert.match(control.stdout, /^sleep 1000 \n/, control.stdout);
  assert.match(control.stdout, /zombies=1/, control.stdout);

  // `sleep` ignores nothing, so catatonit's forwarded SIGTERM ends it well inside the default 10 s grace.
  const t0 = Date.now();
  const stopped = await env.srv.request("POST", `/api/tenants/${T}/sandboxes/${withInit.metadata.id}/stop`, { body: {} });
  assert.equal(stopped.status, 200);
  assert.ok(Date.now() - t0 < 3_000, `SIGTERM reached the child through the init (${Date.now() - t0} ms)`);
  assert.match(stopped.body.status.conditions[0].message, /SIGTERM/);
  await remove(withInit.metadata.id);
  await remove(without.metadata.id);
});

test("a tenant default lifetime applies to new sandboxes; the spec's own fields win", { skip }, async () => {
  const put = await env.srv.request("PUT", `/api/tenants/${T}/lifetime`, { body: { ttlSeconds: 600, idleTimeoutSeconds: 300, onExpire: "delete" } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body.lifetime, { ttlSeconds: 600, idleTimeoutSeconds: 300, onExpire: "delete" });
  const bad = await env.srv.request("PUT", `/api/tenants/${T}/lifetime`, { body: { ttlSeconds: 0 } });
  assert.equal(bad.status, 400);
  try {
    const s = await create({ argv: POLITE }, { ttlSeconds: 60 });
    assert.deepEqual(s.spec.sandbox.lifetime, { ttlSeconds: 60, idleTimeoutSeconds: 300, onExpire: "delete" });
    const left = Date.parse(s.status.expiresAt) - Date.now();
    assert.ok(left > 55_000 && left <= 60_000, `ttl 60 s from the spec (${left} ms left)`);
    await remove(s.metadata.id);
  } finally {
    const cleared = await env.srv.request("PUT", `/api/tenants/${T}/lifetime`, { body: {} });
    assert.deepEqual(cleared.body.lifetime, {});
  }
  const plain = await create({ argv: POLITE });
  assert.equal(plain.status.expiresAt, undefined, "no default, no deadline");
  await remove(plain.metadata.id);
});
