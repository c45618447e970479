// Sessions domain on a real SQLite store, with sandboxes as plain records: the
// lease rules, the scheduler's expiry, target changes and boot catch-up.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { silentLogger } from "../log.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import { SessionStore } from "../store/session-store.js";
import { TenantStore } from "../store/tenant-store.js";
import { AppError } from "./errors.js";
import { EventBus, type LifecycleEvent } from "./events.js";
import { Sessions, type SessionClosedEvent, type ServiceResolver } from "./sessions.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";
import { setTimeout as sleep } from "node:timers/promises";

let tmp: TempDb;
let sandboxes: Map<string, SandboxRow>;
let events: LifecycleEvent[];
let bus: EventBus;
const started: Sessions[] = [];

function sandbox(id: string, lifecycleState = "ready", tenantId = "t1"): SandboxRow {
  const row = { tenantId, id, generation: 3, lifecycleState, profile: "worker", spec: { backend: "container" } } as unknown as SandboxRow;
  sandboxes.set(`${tenantId}/${id}`, row);
  return row;
}

function make(opts: { services?: ServiceResolver; now?: () => number } = {}): Sessions {
  const s = new Sessions({
    store: new SessionStore(tmp.db),
    sandboxes: { find: (t, id) => sandboxes.get(`${t}/${id}`) },
    events: bus,
    log: silentLogger,
    ...opts,
  });
  started.push(s);
  return s;
}

function code(err: unknown): string {
  return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
}

function rejects(fn: () => unknown, expected: string, field?: string): void {
  assert.throws(fn, (e) => {
    assert.equal(code(e), expected);
    if (field !== undefined) assert.equal((e as AppError).detail?.field, field, (e as Error).message);
    return true;
  });
}

beforeEach(() => {
  tmp = openTempDb("nimbus-sessions-");
  new TenantStore(tmp.db).insert("t1", new Date().toISOString());
  new TenantStore(tmp.db).insert("t2", new Date().toISOString());
  sandboxes = new Map();
  events = [];
  bus = new EventBus();
  bus.subscribe("t1", (e) => events.push(e));
});

afterEach(() => {
  for (const s of started.splice(0)) s.stop();
  tmp.close();
});

test("open records the lease, pins the sandbox snapshot and applies the TTL rules", () => {
  sandbox("sb");
  const s = make();
  const t0 = Date.now();
  const row = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio", "exec"], requestedTtlMs: 300_000 });
  assert.match(row.id, /^session-[0-9a-hjkmnp-tv-z]{26}$/);
  assert.equal(row.lifecycleState, "open");
  assert.deepEqual(row.targetSnapshot, { sandbox: { id: "sb", generation: 3, profile: "worker", backend: "container" } });
  assert.ok(Math.abs(Date.parse(row.expiresAt) - (t0 + 300_000)) < 1_000);
  const dflt = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"] });
  assert.ok(Math.abs(Date.parse(dflt.expiresAt) - (Date.now() + 900_000)) < 1_000);
  const clamped = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 7_200_000 });
  assert.ok(Math.abs(Date.parse(clamped.expiresAt) - (Date.now() + 3_600_000)) < 1_000);
  assert.deepEqual(
    events.map((e) => `${e.type}/${e.action}/${e.key}`),
    [row.id, dflt.id, clamped.id].map((id) => `session/updated/${id}`),
  );
});

test("invalid or denied opens throw the documented errors and record nothing", () => {
  sandbox("sb");
  sandbox("starting", "starting");
  sandbox("other", "ready", "t2");
  const s = make();
  const open =
    (target: any, channels: string[] = ["stdio"], requestedTtlMs?: number) =>
    () =>
      s.open("t1", { target, channels, requestedTtlMs });
  rejects(open({ sandbox: { id: "sb" } }, []), "400 op.invalid_input", "channels");
  rejects(open({ sandbox: { id: "sb" } }, ["stdio", "files", "exec", "a", "b", "c", "d", "e", "f"]), "400 op.invalid_input", "channels");
  rejects(open({ sandbox: { id: "sb" } }, ["stdio", "stdio"]), "400 op.invalid_input", "channels.1");
  rejects(open({ sandbox: { id: "sb" } }, ["stdio", "tty"]), "400 op.invalid_input", "channels.1");
  rejects(open({ sandbox: { id: "sb" }, service: { name: "x" } }), "400 op.invalid_input", "target");
  rejects(open({}), "400 op.invalid_input", "target");
  rejects(open({ sandbox: { id: "sb" } }, ["stdio"], 0), "400 op.invalid_input", "requestedTtlMs");
  rejects(open({ sandbox: { id: "sb" } }, ["stdio"], -1), "400 op.invalid_input", "requestedTtlMs");
  rejects(open({ sandbox: { id: "nope" } }), "404 op.not_found");
  rejects(open({ sandbox: { id: "other" } }), "404 op.not_found");
  rejects(open({ service: { name: "web" } }), "404 op.not_found");
  assert.throws(open({ sandbox: { id: "starting" } }), (e) => {
    assert.equal(code(e), "409 op.conflict");
    assert.equal((e as Error).message, "session open requires a ready sandbox target");
    assert.equal((e as AppError).detail?.lifecycleState, "starting");
    return true;
  });
  assert.equal(s.list("t1", { limit: 100 }).items.length, 0);
  assert.equal(events.length, 0);
});

test("a service target resolves to its current sandbox, which must be ready", () => {
  sandbox("svc-sb-1");
  const s = make({
    services: { resolve: (t, name) => (t === "t1" && name === "web" ? { sandboxId: "svc-sb-1", generation: 2, backend: "sandbox" } : undefined) },
  });
  const row = s.open("t1", { target: { service: { name: "web" } }, channels: ["stdio"] });
  assert.deepEqual(row.targetSnapshot, { service: { name: "web", generation: 2, backend: "sandbox", sandboxId: "svc-sb-1" } });
  assert.equal(s.countOpenForService("t1", "web"), 1);
  assert.equal(s.closeForService("t1", "web", "service_force_deleted"), 1);
  assert.equal(s.get("t1", row.id).closeReason, "service_force_deleted");
  sandbox("svc-sb-1", "stopped");
  rejects(() => s.open("t1", { target: { service: { name: "web" } }, channels: ["stdio"] }), "409 op.conflict");
});

test("close is recorded once; closing again returns the record unchanged; renew only while open", () => {
  sandbox("sb");
  const s = make();
  const closed: SessionClosedEvent[] = [];
  s.onClosed((e) => closed.push(e));
  const row = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 1_000 });
  const renewed = s.renew("t1", row.id, 9_999_999);
  assert.equal(renewed.generation, 2);
  assert.ok(Date.parse(renewed.expiresAt) <= Date.now() + 3_600_000 && Date.parse(renewed.expiresAt) > Date.now() + 3_590_000);
  const c1 = s.close("t1", row.id);
  assert.equal(c1.lifecycleState, "closed");
  assert.equal(c1.closeReason, "client_closed");
  const c2 = s.close("t1", row.id, "again");
  assert.deepEqual(c2, c1);
  assert.deepEqual(closed, [{ tenantId: "t1", sessionId: row.id, lifecycleState: "closed", reason: "client_closed" }]);
  rejects(() => s.renew("t1", row.id, 1_000), "409 op.conflict");
  rejects(() => s.close("t2", row.id), "404 op.not_found");
  assert.equal(sandboxes.get("t1/sb")!.lifecycleState, "ready", "closing never touches the target");
});

test("a lease nobody reads expires at its deadline and its channels are told", async () => {
  sandbox("sb");
  const s = make();
  s.start();
  const closed: Array<SessionClosedEvent & { at: number }> = [];
  s.onClosed((e) => closed.push({ ...e, at: Date.now() }));
  const short = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 300 });
  const long = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 60_000 });
  await sleep(900);
  assert.equal(closed.length, 1);
  assert.equal(closed[0]!.sessionId, short.id);
  assert.equal(closed[0]!.reason, "expired");
  assert.ok(closed[0]!.at - Date.parse(short.expiresAt) < 500, `late by ${closed[0]!.at - Date.parse(short.expiresAt)} ms`);
  const row = s.get("t1", short.id);
  assert.equal(row.lifecycleState, "expired");
  assert.equal(row.closeReason, "expired");
  assert.equal(s.get("t1", long.id).lifecycleState, "open");
  assert.ok(events.some((e) => e.key === short.id && (e.resource as any).status.lifecycleState === "expired"));
});

test("a renewed lease is not expired at its old deadline", async () => {
  sandbox("sb");
  const s = make();
  s.start();
  const row = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 200 });
  s.renew("t1", row.id, 60_000);
  await sleep(400);
  assert.equal(s.get("t1", row.id).lifecycleState, "open");
});

test("a target leaving ready closes its open leases with target_stopped, and only those", () => {
  sandbox("sb");
  sandbox("sb2");
  const s = make();
  const closed: SessionClosedEvent[] = [];
  s.onClosed((e) => closed.push(e));
  const a = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"] });
  const b = s.open("t1", { target: { sandbox: { id: "sb2" } }, channels: ["stdio"] });
  s.onSandboxChange(sandbox("sb", "starting"));
  assert.equal(s.get("t1", a.id).lifecycleState, "open");
  s.onSandboxChange(sandbox("sb", "stopping"));
  const row = s.get("t1", a.id);
  assert.equal(row.lifecycleState, "closed");
  assert.equal(row.closeReason, "target_stopped");
  assert.deepEqual(
    closed.map((c) => c.reason),
    ["target_stopped"],
  );
  assert.equal(s.get("t1", b.id).lifecycleState, "open");
});

test("at boot, lapsed leases expire at once, open ones keep their deadline, and leases on vanished targets close", () => {
  sandbox("sb");
  sandbox("gone");
  let clock = Date.now();
  const before = make({ now: () => clock });
  const lapsed = before.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 1_000 });
  const live = before.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"], requestedTtlMs: 600_000 });
  const orphan = before.open("t1", { target: { sandbox: { id: "gone" } }, channels: ["stdio"], requestedTtlMs: 600_000 });
  sandboxes.delete("t1/gone");
  clock += 5_000; // the server was down for five seconds
  const after = make({ now: () => clock });
  after.start();
  const l = after.get("t1", lapsed.id);
  assert.equal(l.lifecycleState, "expired");
  assert.equal(l.closedAt, new Date(clock).toISOString());
  assert.equal(after.get("t1", live.id).lifecycleState, "open");
  assert.equal(after.get("t1", live.id).expiresAt, live.expiresAt);
  assert.equal(after.get("t1", orphan.id).closeReason, "target_deleted");
});

test("deleting a tenant ends its leases and removes them", async () => {
  sandbox("sb");
  const s = make();
  const closed: SessionClosedEvent[] = [];
  s.onClosed((e) => closed.push(e));
  const row = s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"] });
  await s.deleteAllOfTenant("t1");
  assert.deepEqual(
    closed.map((c) => c.reason),
    ["tenant_deleted"],
  );
  assert.equal(s.find("t1", row.id), undefined);
  assert.equal(events.at(-1)?.action, "deleted");
});

test("list pages by id and filters by state", () => {
  sandbox("sb");
  const s = make();
  const ids = Array.from({ length: 3 }, () => s.open("t1", { target: { sandbox: { id: "sb" } }, channels: ["stdio"] }).id);
  s.close("t1", ids[1]!);
  const p1 = s.list("t1", { limit: 2 });
  assert.deepEqual(
    p1.items.map((r) => r.id),
    [...ids].sort().slice(0, 2),
  );
  assert.equal(p1.remaining, 1);
  assert.deepEqual(
    s.list("t1", { limit: 2, pageToken: p1.items[1]!.id }).items.map((r) => r.id),
    [...ids].sort().slice(2),
  );
  assert.deepEqual(
    s.list("t1", { limit: 100, status: "closed" }).items.map((r) => r.id),
    [ids[1]],
  );
  assert.equal(s.list("t2", { limit: 100 }).items.length, 0);
});
