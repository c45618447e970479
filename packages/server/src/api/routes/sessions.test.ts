// Session routes against a real server: the loopback registry with the busybox
// fixture and the real crun runtime, so every target is a real ready sandbox.
// Covers the seed quickstart's session steps, every validation rule of §5,
// tenancy, expiry that nobody reads, restart catch-up and target stop.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildBusyboxImage, FIXTURE_TAG, pushFixture } from "../../testing/fixtures.js";
import { startRegistry, type TestRegistry } from "../../testing/registry.js";
import { startTestServer, type TestServer } from "../../testing/server.js";
import type { SessionClosedEvent } from "../../domain/sessions.js";
import { busyboxSandboxBody } from "../../testing/sandbox-env.js";
import { setTimeout as sleep } from "node:timers/promises";

// Exits promptly on SIGTERM (PID 1 has no default handlers).
const ARGV = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"];

let registry: TestRegistry;
let srv: TestServer;
let flags: Record<string, string[]>;
let betaKey = "";
let sbAlpha = "";

async function createReady(tenant: string): Promise<any> {
  const r = await srv.request("POST", `/api/tenants/${tenant}/sandboxes`, { body: busyboxSandboxBody(ARGV, { displayName: "sess" }) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const g = await srv.request("GET", `/api/tenants/${tenant}/sandboxes/${r.body.metadata.id}`);
    if (g.body.status.lifecycleState === "ready") return g.body;
    assert.notEqual(g.body.status.lifecycleState, "failed", JSON.stringify(g.body.status));
    assert.ok(Date.now() < deadline, "sandbox never became ready");
    await sleep(50);
  }
}

async function tenant(id: string): Promise<void> {
  assert.equal((await srv.request("POST", "/api/tenants", { body: { id } })).status, 201);
}

const open = (body: unknown, headers?: Record<string, string>) => srv.request("POST", "/api/sessions", { body, ...(headers ? { headers } : {}) });

before(async () => {
  registry = await startRegistry();
  pushFixture(registry.backendHost, await buildBusyboxImage(), "library/busybox", FIXTURE_TAG);
  flags = { registryMirrors: [`docker.io=${registry.url}`] };
  srv = await startTestServer({ flags });
  await tenant("alpha");
  await tenant("beta");
  betaKey = (await srv.request("POST", "/api/tenants/beta/api-keys", { body: {} })).body.key;
  sbAlpha = (await createReady("alpha")).metadata.id;
});

after(async () => {
  try {
    for (const t of (await srv.request("GET", "/api/tenants")).body?.tenants ?? []) await srv.request("DELETE", `/api/tenants/${t}`);
  } finally {
    await srv.close();
    await registry.stop();
  }
});

test("seed quickstart: open with a 5-minute TTL, snapshot, close, close again unchanged", async () => {
  const t0 = Date.now();
  const r = await open({ tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"], requestedTtlMs: 300_000 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const s = r.body;
  assert.match(s.metadata.id, /^session-[0-9a-z]{26}$/);
  assert.equal(s.metadata.tenantId, "alpha");
  assert.equal(s.metadata.generation, 1);
  assert.ok(Math.abs(Date.parse(s.spec.expiresAt) - (t0 + 300_000)) < 2_000);
  assert.equal(s.status.expiresAt, s.spec.expiresAt);
  assert.deepEqual(s.spec.target, { sandbox: { id: sbAlpha } });
  assert.deepEqual(s.spec.targetSnapshot, { sandbox: { id: sbAlpha, generation: 1, profile: "worker", backend: "container" } });
  assert.deepEqual(s.spec.channels, ["stdio"]);
  assert.equal(s.status.lifecycleState, "open");
  assert.equal(s.status.conditions[0].type, "Open");
  assert.equal(s.status.conditions[0].status, "True");
  assert.equal(s.status.conditions[0].reason, "LeaseActive");

  const got = await srv.request("GET", `/api/sessions/${s.metadata.id}?tenantId=alpha`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, s);

  const c1 = await srv.request("POST", `/api/sessions/${s.metadata.id}/close?tenantId=alpha`, { body: { reason: "done" } });
  assert.equal(c1.status, 200);
  assert.equal(c1.body.status.lifecycleState, "closed");
  assert.equal(c1.body.status.closeReason, "done");
  assert.equal(c1.body.status.conditions[0].reason, "ClientClosed");
  assert.equal(c1.body.status.conditions[0].status, "False");
  assert.ok(c1.body.status.closedAt);
  const c2 = await srv.request("POST", `/api/sessions/${s.metadata.id}/close?tenantId=alpha`, { body: {} });
  assert.equal(c2.status, 200);
  assert.deepEqual(c2.body, c1.body);
  assert.equal(c2.body.metadata.resourceVersion, c1.body.metadata.resourceVersion);

  const sb = await srv.request("GET", `/api/tenants/alpha/sandboxes/${sbAlpha}`);
  assert.equal(sb.body.status.lifecycleState, "ready", "closing a session never stops its target");
});

test("close without a reason records client_closed", async () => {
  const s = (await open({ tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"] })).body;
  const c = await srv.request("POST", `/api/sessions/${s.metadata.id}/close?tenantId=alpha`);
  assert.equal(c.status, 200);
  assert.equal(c.body.status.closeReason, "client_closed");
});

test("TTL: default 15 min, above 1 h clamped, 0 and negative refused", async () => {
  const base = { tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"] };
  const d = await open(base);
  assert.equal(d.status, 201);
  assert.ok(Math.abs(Date.parse(d.body.spec.expiresAt) - (Date.now() + 900_000)) < 2_000);
  const c = await open({ ...base, requestedTtlMs: 7_200_000 });
  assert.equal(c.status, 201);
  assert.ok(Math.abs(Date.parse(c.body.spec.expiresAt) - (Date.now() + 3_600_000)) < 2_000);
  for (const ttl of [0, -5]) {
    const r = await open({ ...base, requestedTtlMs: ttl });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, "op.invalid_input");
    assert.equal(r.body.error.detail.field, "requestedTtlMs");
  }
});

test("renew moves the deadline, never past one hour from now; a closed session cannot be renewed", async () => {
  const s = (await open({ tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"], requestedTtlMs: 60_000 })).body;
  const r = await srv.request("POST", `/api/sessions/${s.metadata.id}/renew`, { body: { tenantId: "alpha", requestedTtlMs: 10 * 3_600_000 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const at = Date.parse(r.body.spec.expiresAt);
  assert.ok(at <= Date.now() + 3_600_000 && at > Date.now() + 3_590_000);
  assert.equal(r.body.status.expiresAt, r.body.spec.expiresAt);
  assert.equal(r.body.metadata.generation, 2);
  const short = await srv.request("POST", `/api/sessions/${s.metadata.id}/renew`, { body: { tenantId: "alpha", requestedTtlMs: 120_000 } });
  assert.ok(Math.abs(Date.parse(short.body.spec.expiresAt) - (Date.now() + 120_000)) < 2_000);
  const zero = await srv.request("POST", `/api/sessions/${s.metadata.id}/renew`, { body: { tenantId: "alpha", requestedTtlMs: 0 } });
  assert.equal(zero.status, 400);
  await srv.request("POST", `/api/sessions/${s.metadata.id}/close?tenantId=alpha`, { body: {} });
  const late = await srv.request("POST", `/api/sessions/${s.metadata.id}/renew`, { body: { tenantId: "alpha", requestedTtlMs: 60_000 } });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, "op.conflict");
});

test("every invalid or denied open answers as documented and leaves no record", async () => {
  await tenant("val");
  const sb = (await createReady("val")).metadata.id;
  const stopped = (await createReady("val")).metadata.id;
  assert.equal((await srv.request("POST", `/api/tenants/val/sandboxes/${stopped}/stop`, { body: { gracePeriodMs: 0 } })).body.status.lifecycleState, "stopped");
  const target = { sandbox: { id: sb } };
  const cases: Array<{ name: string; body: any; status: number; code: string; field?: string; mentions?: string }> = [
    { name: "no channels", body: { tenantId: "val", target, channels: [] }, status: 400, code: "op.invalid_input", field: "channels" },
    {
      name: "nine channels",
      body: { tenantId: "val", target, channels: ["stdio", "files", "exec", "a", "b", "c", "d", "e", "f"] },
      status: 400,
      code: "op.invalid_input",
      field: "channels",
    },
    { name: "duplicate channel", body: { tenantId: "val", target, channels: ["stdio", "stdio"] }, status: 400, code: "op.invalid_input", mentions: "stdio" },
    {
      name: "unknown channel",
      body: { tenantId: "val", target, channels: ["stdio", "teletype"] },
      status: 400,
      code: "op.invalid_input",
      mentions: "teletype",
    },
    {
      name: "two targets",
      body: { tenantId: "val", target: { sandbox: { id: sb }, service: { name: "web" } }, channels: ["stdio"] },
      status: 400,
      code: "op.invalid_input",
      field: "target",
    },
    { name: "no target", body: { tenantId: "val", target: {}, channels: ["stdio"] }, status: 400, code: "op.invalid_input", field: "target" },
    {
      name: "unknown target kind",
      body: { tenantId: "val", target: { pod: { id: sb } }, channels: ["stdio"] },
      status: 400,
      code: "op.invalid_input",
      field: "target.pod",
    },
    { name: "missing target", body: { tenantId: "val", channels: ["stdio"] }, status: 400, code: "op.invalid_input", field: "target" },
    { name: "unknown field", body: { tenantId: "val", target, channels: ["stdio"], extra: 1 }, status: 400, code: "op.invalid_input", field: "extra" },
    {
      name: "ttl zero",
      body: { tenantId: "val", target, channels: ["stdio"], requestedTtlMs: 0 },
      status: 400,
      code: "op.invalid_input",
      field: "requestedTtlMs",
    },
    { name: "admin without tenantId", body: { target, channels: ["stdio"] }, status: 400, code: "op.invalid_input", field: "tenantId" },
    { name: "unknown tenant", body: { tenantId: "nosuch", target, channels: ["stdio"] }, status: 404, code: "op.not_found" },
    { name: "missing sandbox", body: { tenantId: "val", target: { sandbox: { id: "nope-01" } }, channels: ["stdio"] }, status: 404, code: "op.not_found" },
    {
      name: "service (none exist yet)",
      body: { tenantId: "val", target: { service: { name: "web" } }, channels: ["stdio"] },
      status: 404,
      code: "op.not_found",
      mentions: "service `web`",
    },
    {
      name: "another tenant's sandbox",
      body: { tenantId: "val", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"] },
      status: 404,
      code: "op.not_found",
    },
    {
      name: "stopped target",
      body: { tenantId: "val", target: { sandbox: { id: stopped } }, channels: ["stdio"] },
      status: 409,
      code: "op.conflict",
      mentions: "session open requires a ready sandbox target",
    },
  ];
  for (const c of cases) {
    const r = await open(c.body);
    assert.equal(r.status, c.status, `${c.name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, c.code, c.name);
    if (c.field) assert.equal(r.body.error.detail?.field, c.field, `${c.name}: ${r.body.error.message}`);
    if (c.mentions) assert.ok(r.body.error.message.includes(c.mentions), `${c.name}: ${r.body.error.message}`);
  }
  const conflict = await open({ tenantId: "val", target: { sandbox: { id: stopped } }, channels: ["stdio"] });
  assert.equal(conflict.body.error.detail.lifecycleState, "stopped");
  const list = await srv.request("GET", "/api/sessions?tenantId=val");
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.items, []);
  assert.equal(list.body.metadata.remainingCount, 0);
});

test("another tenant's key gets 404 for get, close, renew and open against this tenant; its own tenant is implied", async () => {
  const s = (await open({ tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"] })).body;
  const key = { authorization: "", "x-nimbus-api-key": betaKey };
  const id = s.metadata.id;
  for (const [method, path, body] of [
    ["GET", `/api/sessions/${id}?tenantId=alpha`, undefined],
    ["GET", `/api/sessions/${id}`, undefined],
    ["POST", `/api/sessions/${id}/close?tenantId=alpha`, {}],
    ["POST", `/api/sessions/${id}/close`, {}],
    ["POST", `/api/sessions/${id}/renew`, { requestedTtlMs: 1000 }],
    ["GET", "/api/sessions?tenantId=alpha", undefined],
  ] as const) {
    const r = await srv.request(method, path, { body, headers: key });
    assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "op.not_found");
  }
  for (const body of [
    { tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"] },
    { target: { sandbox: { id: sbAlpha } }, channels: ["stdio"] },
  ]) {
    const r = await open(body, key);
    assert.equal(r.status, 404, JSON.stringify(r.body));
  }
  // The admin sees the session untouched; beta's implied-tenant list is its own (empty).
  assert.equal((await srv.request("GET", `/api/sessions/${id}?tenantId=alpha`)).body.status.lifecycleState, "open");
  const own = await srv.request("GET", "/api/sessions", { headers: key });
  assert.equal(own.status, 200);
  assert.equal(own.body.metadata.tenantId, "beta");
  assert.deepEqual(own.body.items, []);
  assert.equal((await srv.request("GET", "/api/sessions", { headers: { authorization: "" } })).status, 401);
});

test("list: sorted by id, paged, filtered by status", async () => {
  await tenant("lister");
  const sb = (await createReady("lister")).metadata.id;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await open({ tenantId: "lister", target: { sandbox: { id: sb } }, channels: ["stdio", "exec"] })).body.metadata.id);
  await srv.request("POST", `/api/sessions/${ids[0]}/close?tenantId=lister`, { body: {} });
  const p1 = await srv.request("GET", "/api/sessions?tenantId=lister&limit=2");
  assert.deepEqual(
    p1.body.items.map((s: any) => s.metadata.id),
    [...ids].sort().slice(0, 2),
  );
  assert.equal(p1.body.metadata.nextPageToken, p1.body.items[1].metadata.id);
  assert.equal(p1.body.metadata.remainingCount, 1);
  assert.equal(p1.body.metadata.limit, 2);
  const p2 = await srv.request("GET", `/api/sessions?tenantId=lister&limit=2&pageToken=${p1.body.metadata.nextPageToken}`);
  assert.deepEqual(
    p2.body.items.map((s: any) => s.metadata.id),
    [...ids].sort().slice(2),
  );
  const closed = await srv.request("GET", "/api/sessions?tenantId=lister&status=closed");
  assert.deepEqual(
    closed.body.items.map((s: any) => s.metadata.id),
    [ids[0]],
  );
  assert.equal((await srv.request("GET", "/api/sessions?tenantId=lister&status=bogus")).status, 400);
  // Upstream's SDK filters with `state=`; `status=` stays an alias.
  const byState = await srv.request("GET", "/api/sessions?tenantId=lister&state=closed");
  assert.equal(byState.status, 200, JSON.stringify(byState.body));
  assert.deepEqual(
    byState.body.items.map((s: any) => s.metadata.id),
    [ids[0]],
  );
  assert.deepEqual(
    (await srv.request("GET", "/api/sessions?tenantId=lister&state=open")).body.items.map((s: any) => s.metadata.id),
    [...ids].sort().filter((id) => id !== ids[0]),
  );
  assert.equal((await srv.request("GET", "/api/sessions?tenantId=lister&state=bogus")).status, 400);
  const both = await srv.request("GET", "/api/sessions?tenantId=lister&state=open&status=closed");
  assert.equal(both.status, 400);
  assert.equal(both.body.error.detail.field, "state");
  await srv.request("POST", `/api/tenants/lister/sandboxes/${sb}/stop`, { body: { gracePeriodMs: 0 } });
});

test("a 2-second lease that nobody reads expires within ~1 s of its deadline; channels are told `expired`", async () => {
  const told: Array<SessionClosedEvent & { at: number }> = [];
  const off = srv.server.parts.sessions.onClosed((e) => told.push({ ...e, at: Date.now() }));
  try {
    const s = (await open({ tenantId: "alpha", target: { sandbox: { id: sbAlpha } }, channels: ["stdio"], requestedTtlMs: 2_000 })).body;
    const deadline = Date.parse(s.spec.expiresAt);
    await sleep(deadline - Date.now() + 1_000);
    const mine = told.filter((e) => e.sessionId === s.metadata.id);
    assert.equal(mine.length, 1, "the closed hook fired once, without anyone reading");
    assert.equal(mine[0]!.reason, "expired");
    assert.equal(mine[0]!.lifecycleState, "expired");
    assert.ok(mine[0]!.at >= deadline && mine[0]!.at - deadline < 1_000, `told ${mine[0]!.at - deadline} ms after the deadline`);
    const g = (await srv.request("GET", `/api/sessions/${s.metadata.id}?tenantId=alpha`)).body;
    assert.equal(g.status.lifecycleState, "expired");
    assert.equal(g.status.closeReason, "expired");
    assert.equal(g.status.conditions[0].reason, "LeaseExpired");
    assert.ok(Date.parse(g.status.closedAt) - deadline < 1_000);
    const sb = await srv.request("GET", `/api/tenants/alpha/sandboxes/${sbAlpha}`);
    assert.equal(sb.body.status.lifecycleState, "ready", "expiry never stops the target");
    const c = await srv.request("POST", `/api/sessions/${s.metadata.id}/close?tenantId=alpha`, { body: {} });
    assert.deepEqual(c.body, g, "closing an expired session returns it unchanged");
  } finally {
    off();
  }
});

test("stopping the target closes its open sessions with target_stopped; the lease events are published", async () => {
  await tenant("stopper");
  const sb = (await createReady("stopper")).metadata.id;
  const watch = new AbortController();
  const eventsRes = await fetch(`${srv.url}/api/tenants/stopper/events?kind=session`, {
    headers: { authorization: `Bearer ${srv.token()}` },
    signal: watch.signal,
  });
  const a = (await open({ tenantId: "stopper", target: { sandbox: { id: sb } }, channels: ["stdio"] })).body;
  const b = (await open({ tenantId: "stopper", target: { sandbox: { id: sb } }, channels: ["exec", "files"] })).body;
  const stop = await srv.request("POST", `/api/tenants/stopper/sandboxes/${sb}/stop`, { body: { gracePeriodMs: 0 } });
  assert.equal(stop.status, 200);
  for (const s of [a, b]) {
    const g = (await srv.request("GET", `/api/sessions/${s.metadata.id}?tenantId=stopper`)).body;
    assert.equal(g.status.lifecycleState, "closed");
    assert.equal(g.status.closeReason, "target_stopped");
    assert.equal(g.status.conditions[0].reason, "TargetStopped");
  }
  const lines: any[] = [];
  const reader = eventsRes.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const until = Date.now() + 5_000;
  while (lines.filter((l) => l.type === "session").length < 4 && Date.now() < until) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) lines.push(JSON.parse(line));
    }
  }
  watch.abort();
  const sessionEvents = lines.filter((l) => l.type === "session").map((l) => `${l.resource.metadata.id}:${l.resource.status.lifecycleState}`);
  const [ao, bo, ac, bc] = [`${a.metadata.id}:open`, `${b.metadata.id}:open`, `${a.metadata.id}:closed`, `${b.metadata.id}:closed`];
  assert.deepEqual([...sessionEvents].sort(), [ao, bo, ac, bc].sort());
  assert.ok(sessionEvents.indexOf(ao) < sessionEvents.indexOf(ac) && sessionEvents.indexOf(bo) < sessionEvents.indexOf(bc));
});

test("restart: a lease that lapsed while the server was down is expired at boot; an open one keeps its deadline", async () => {
  await tenant("restart");
  const sb = (await createReady("restart")).metadata.id;
  const lapsing = (await open({ tenantId: "restart", target: { sandbox: { id: sb } }, channels: ["stdio"], requestedTtlMs: 1_500 })).body;
  const lasting = (await open({ tenantId: "restart", target: { sandbox: { id: sb } }, channels: ["stdio"], requestedTtlMs: 600_000 })).body;
  await srv.stop();
  await sleep(Date.parse(lapsing.spec.expiresAt) - Date.now() + 300);
  srv = await startTestServer({ root: srv.root, flags });
  const bootedAt = Date.now();
  const l = (await srv.request("GET", `/api/sessions/${lapsing.metadata.id}?tenantId=restart`)).body;
  assert.equal(l.status.lifecycleState, "expired");
  assert.equal(l.status.closeReason, "expired");
  assert.ok(Date.parse(l.status.closedAt) <= bootedAt, "expired during boot, not when first read");
  const o = (await srv.request("GET", `/api/sessions/${lasting.metadata.id}?tenantId=restart`)).body;
  assert.equal(o.status.lifecycleState, "open");
  assert.equal(o.spec.expiresAt, lasting.spec.expiresAt);
  assert.equal((await srv.request("GET", `/api/tenants/restart/sandboxes/${sb}`)).body.status.lifecycleState, "ready");
  // The new server keeps time for leases opened before the restart.
  const short = (await open({ tenantId: "restart", target: { sandbox: { id: sb } }, channels: ["stdio"], requestedTtlMs: 300 })).body;
  await sleep(900);
  assert.equal((await srv.request("GET", `/api/sessions/${short.metadata.id}?tenantId=restart`)).body.status.lifecycleState, "expired");
});

test("deleting a tenant removes its sessions", async () => {
  await tenant("doomed");
  const sb = (await createReady("doomed")).metadata.id;
  const s = (await open({ tenantId: "doomed", target: { sandbox: { id: sb } }, channels: ["stdio"] })).body;
  const told: SessionClosedEvent[] = [];
  const off = srv.server.parts.sessions.onClosed((e) => told.push(e));
  assert.equal((await srv.request("DELETE", "/api/tenants/doomed")).status, 204);
  off();
  assert.deepEqual(
    told.filter((e) => e.sessionId === s.metadata.id).map((e) => e.reason),
    ["tenant_deleted"],
  );
  const row = srv.server.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE tenant_id = 'doomed'").get() as { n: number };
  assert.equal(row.n, 0);
});
