// The lifetime rules on a real SQLite store with a settable clock: the tenant
// default under the spec's fields, a due TTL expires (once), an idle deadline
// is pushed on by activity or an open session instead of firing, touch writes
// the store only every tenth of the timeout, and extend's bounds.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { SandboxStore } from "../store/sandbox-store.js";
import { TenantStore } from "../store/tenant-store.js";
import { initialDeadlines, resolveLifetime, SandboxLifetimes } from "./sandbox-lifetimes.js";
import type { LifetimeSpec } from "./sandbox-lifetimes.js";
import { createLogger } from "../log.js";
import { checkSandboxSpec } from "./sandbox-rules.js";
import { BUSYBOX_ROW_SPEC, sandboxRow } from "../testing/sandbox-rows.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
let tmp: TempDb;
let store: SandboxStore;
let nowMs: number;
let expired: Array<{ id: string; message: string }>;
let openSessions: Set<string>;
let lifetimes: SandboxLifetimes;

beforeEach(() => {
  tmp = openTempDb("nimbus-lifetimes-");
  new TenantStore(tmp.db).insert("t1", new Date(T0).toISOString());
  store = new SandboxStore(tmp.db);
  nowMs = T0;
  expired = [];
  openSessions = new Set();
  lifetimes = new SandboxLifetimes({
    store,
    sandboxes: {
      find: (tenantId, id) => store.get(tenantId, id),
      expire: async (tenantId, id, message) => {
        expired.push({ id, message });
        store.update(tenantId, id, { lifecycleState: "stopped", reason: "expired" });
      },
      delete: async () => undefined,
    },
    hasOpenSession: (_t, id) => openSessions.has(id),
    log: createLogger({ level: "error", format: "json", write: () => undefined }),
    now: () => nowMs,
  });
});

afterEach(() => {
  lifetimes.stop();
  tmp.close();
});

function insert(id: string, lifetime: LifetimeSpec): void {
  const at = new Date(nowMs).toISOString();
  store.insert(sandboxRow(id, at, { spec: { ...BUSYBOX_ROW_SPEC, lifetime }, lifecycleState: "ready", ...initialDeadlines(lifetime, nowMs) }));
}

const settle = () => new Promise((r) => setImmediate(r));

/** Starts the scheduler, lets its first pass run, and answers the ids expired so far. */
async function startPass(): Promise<string[]> {
  lifetimes.start();
  await settle();
  return expired.map((e) => e.id);
}

test("the spec's own fields win over the tenant default, field by field; no deadline, no lifetime", () => {
  assert.deepEqual(resolveLifetime({ ttlSeconds: 60 }, { ttlSeconds: 600, idleTimeoutSeconds: 30, onExpire: "delete" }), {
    ttlSeconds: 60,
    idleTimeoutSeconds: 30,
    onExpire: "delete",
  });
  assert.deepEqual(resolveLifetime({ idleTimeoutSeconds: 5 }, undefined), { idleTimeoutSeconds: 5, onExpire: "stop" });
  assert.equal(resolveLifetime(undefined, { onExpire: "delete" }), undefined);
  assert.deepEqual(initialDeadlines({ ttlSeconds: 5 }, T0), { expiresAt: "2030-01-01T00:00:05.000Z", idleExpiresAt: null });
});

test("a due TTL expires once with a message naming the TTL; one not yet due does not", async () => {
  insert("due", { ttlSeconds: 5 });
  insert("later", { ttlSeconds: 50 });
  nowMs = T0 + 5_000;
  assert.deepEqual(await startPass(), ["due"]);
  assert.match(expired[0]!.message, /its TTL ran out/);
  lifetimes.arm();
  await settle();
  assert.equal(expired.length, 1, "an expired sandbox is not expired again");
});

test("idle: activity or an open session pushes the deadline on; with neither it fires", async () => {
  insert("busy", { idleTimeoutSeconds: 10 });
  insert("session", { idleTimeoutSeconds: 10 });
  insert("quiet", { idleTimeoutSeconds: 10 });
  nowMs = T0 + 8_000;
  lifetimes.touch("t1", "busy");
  assert.equal(store.get("t1", "busy")!.idleExpiresAt, new Date(T0 + 18_000).toISOString(), "moved by 8 s (over a tenth of 10 s): written");
  nowMs = T0 + 8_500;
  lifetimes.touch("t1", "busy");
  assert.equal(store.get("t1", "busy")!.idleExpiresAt, new Date(T0 + 18_000).toISOString(), "moved by 0.5 s: kept in memory only");
  openSessions.add("session");
  nowMs = T0 + 10_000;
  assert.deepEqual(await startPass(), ["quiet"]);
  assert.match(expired[0]!.message, /idle/);
  assert.ok(Date.parse(store.get("t1", "session")!.idleExpiresAt!) >= T0 + 20_000, "an open session moved the deadline a whole timeout on");
  // The in-memory activity at 8.5 s decides when the stored 18 s deadline comes due.
  nowMs = T0 + 18_000;
  lifetimes.arm();
  lifetimes.stop();
  lifetimes.start();
  await settle();
  assert.equal(expired.length, 1, "activity at 8.5 s keeps `busy` until 18.5 s");
  assert.equal(store.get("t1", "busy")!.idleExpiresAt, new Date(T0 + 18_500).toISOString());
  nowMs = T0 + 18_500;
  lifetimes.stop();
  assert.deepEqual(await startPass(), ["quiet", "busy"]);
});

test("extend adds to the deadline or sets one, at most 7 days ahead, only while running", () => {
  insert("s", { ttlSeconds: 60 });
  assert.equal(lifetimes.extend("t1", "s", { addSeconds: 30 }).expiresAt, new Date(T0 + 90_000).toISOString());
  assert.equal(lifetimes.extend("t1", "s", { expiresAt: new Date(T0 + 3_600_000).toISOString() }).expiresAt, new Date(T0 + 3_600_000).toISOString());
  assert.throws(() => lifetimes.extend("t1", "s", { expiresAt: new Date(T0 + 8 * 86_400_000).toISOString() }), /at most 604800 seconds/);
  assert.throws(() => lifetimes.extend("t1", "s", { expiresAt: new Date(T0 - 1).toISOString() }), /in the past/);
  assert.throws(() => lifetimes.extend("t1", "s", { expiresAt: "tomorrow" }), /ISO 8601/);
  assert.throws(() => lifetimes.extend("t1", "nope", { addSeconds: 1 }), { code: "op.not_found" });
  insert("none", {});
  assert.equal(lifetimes.extend("t1", "none", { addSeconds: 10 }).expiresAt, new Date(T0 + 10_000).toISOString(), "no deadline: counted from now");
  store.update("t1", "s", { lifecycleState: "stopped" });
  assert.throws(() => lifetimes.extend("t1", "s", { addSeconds: 1 }), { code: "op.conflict" });
});

test("a service's sandbox spec may not carry a lifetime: it lives as long as the service", () => {
  const spec = {
    owner: { kind: "service" as const },
    backend: "container",
    root: { kind: "oci_image" as const, source: { kind: "reference" as const, reference: "busybox" } },
    lifetime: { ttlSeconds: 5 },
  };
  assert.throws(() => checkSandboxSpec(spec, "service"), { code: "op.invalid_input", message: /spec.lifetime is for standalone sandboxes/ });
});

test("touch of a sandbox without an idle timeout reads the store once", () => {
  insert("plain", { ttlSeconds: 60 });
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (t, id) => (reads++, get(t, id));
  for (let i = 0; i < 100; i++) lifetimes.touch("t1", "plain");
  assert.equal(reads, 1);
});
