// The egress decision log on SQLite on disk: buffered records reach the store
// in order, pages filter by decision, host and time with a cursor, the ring
// keeps each sandbox's newest rows only, denials are handed on, and a tenant's
// rows go with the tenant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EgressLogStore } from "../store/egress-log-store.js";
import { TenantStore } from "../store/tenant-store.js";
import { EgressLog, type EgressRecord } from "./egress-log.js";
import { openTempDb } from "../testing/temp-db.js";

function world() {
  const { db, close } = openTempDb("nimbus-egress-log-");
  new TenantStore(db).insert("demo", new Date().toISOString());
  new TenantStore(db).insert("other", new Date().toISOString());
  return { db, store: new EgressLogStore(db), close };
}

const rec = (over: Partial<EgressRecord> = {}): EgressRecord => ({
  tenantId: "demo",
  sandboxId: "sb-1",
  kind: "connect",
  name: "api.example.test",
  address: "198.18.0.10",
  port: 443,
  protocol: "https",
  decision: "allowed",
  rule: "0",
  reason: null,
  bytesUp: 10,
  bytesDown: 20,
  durationMs: 5,
  ...over,
});

test("records are buffered, then paged with filters and a cursor", () => {
  const w = world();
  try {
    const denied: string[] = [];
    const log = new EgressLog({ store: w.store, flushMs: 60_000, onDenied: (r) => denied.push(r.name ?? r.address ?? "") });
    log.record(rec({ at: "2026-12-04T10:00:00.000Z" }));
    log.record(rec({ at: "2026-12-04T10:00:01.000Z", decision: "denied", name: "evil.example.test", rule: null, reason: "no rule allows this destination" }));
    log.record(rec({ at: "2026-12-04T10:00:02.000Z", kind: "dns", address: null, port: 53, protocol: "dns" }));
    log.record(rec({ sandboxId: "sb-2" }));
    assert.deepEqual(denied, ["evil.example.test"], "denials are handed on at once");
    const all = log.page("demo", "sb-1", { limit: 100 });
    assert.equal(all.length, 3, "a page flushes what is buffered first");
    assert.deepEqual(
      log.page("demo", "sb-1", { decision: "denied", limit: 100 }).map((r) => r.reason),
      ["no rule allows this destination"],
    );
    assert.equal(log.page("demo", "sb-1", { host: "198.18.0.10", limit: 100 }).length, 2);
    assert.equal(log.page("demo", "sb-1", { host: "evil.example.test", limit: 100 }).length, 1);
    assert.equal(log.page("demo", "sb-1", { since: "2026-12-04T10:00:01.000Z", limit: 100 }).length, 2);
    const first = log.page("demo", "sb-1", { limit: 2 });
    const rest = log.page("demo", "sb-1", { limit: 2, after: first.at(-1)!.seq });
    assert.deepEqual(
      [...first, ...rest].map((r) => r.seq),
      all.map((r) => r.seq),
    );
    assert.equal(log.page("other", "sb-1", { limit: 100 }).length, 0, "tenant-scoped");
  } finally {
    w.close();
  }
});

test("each sandbox keeps only its newest rows, and a deleted tenant's rows go with it", () => {
  const w = world();
  try {
    const log = new EgressLog({ store: w.store, flushMs: 60_000, keepPerSandbox: 5 });
    for (let i = 0; i < 12; i++) log.record(rec({ port: 1000 + i }));
    log.record(rec({ sandboxId: "sb-2" }));
    log.flush();
    assert.deepEqual(
      log.page("demo", "sb-1", { limit: 100 }).map((r) => r.port),
      [1007, 1008, 1009, 1010, 1011],
    );
    assert.equal(log.page("demo", "sb-2", { limit: 100 }).length, 1);
    new TenantStore(w.db).delete("demo");
    assert.equal(log.page("demo", "sb-2", { limit: 100 }).length, 0);
  } finally {
    w.close();
  }
});
