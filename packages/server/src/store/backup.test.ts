/**
 * The mechanics under `nimbus backup`/`nimbus restore` and the start-time
 * database check, on real SQLite files: health classification, an online
 * backup taken while another connection writes, and a restore that checks
 * its input and moves the old database and its WAL aside.
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openDatabase } from "./db.js";
import { TenantStore } from "./tenant-store.js";
import { inspectDatabaseFile } from "./db-health.js";
import { backupDatabase, restoreDatabase, BackupError } from "./backup.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "nimbus-backup-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("health: missing, empty (0 bytes), damaged pages and ok are told apart", () => {
  const d = tmp();
  const path = join(d, "nimbus.db");
  assert.equal(inspectDatabaseFile(path).kind, "missing");
  const db = openDatabase(d);
  new TenantStore(db).insert("t1", new Date().toISOString());
  db.close();
  assert.equal(inspectDatabaseFile(path).kind, "ok");
  assert.equal(statSync(path).mode & 0o777, 0o600, "nimbus.db is created 0600");
  writeFileSync(join(d, "text.db"), "hello ".repeat(1000));
  assert.equal(inspectDatabaseFile(join(d, "text.db")).kind, "corrupt");
  truncateSync(path, 0);
  assert.deepEqual(inspectDatabaseFile(path), { kind: "empty", sizeBytes: 0 });
});

test("backup while another connection writes; restore moves the old database and its WAL aside", async () => {
  const d = tmp();
  const db = openDatabase(join(d, "data"));
  const tenants = new TenantStore(db);
  tenants.insert("kept", new Date().toISOString());
  const target = join(d, "out", "b.db");
  let n = 0;
  const writer = setInterval(() => tenants.insert(`w${n++}`, new Date().toISOString()), 1);
  try {
    await backupDatabase(join(d, "data"), target);
  } finally {
    clearInterval(writer);
  }
  assert.equal(inspectDatabaseFile(target).kind, "ok");
  assert.equal(statSync(target).mode & 0o777, 0o600);
  tenants.insert("later", new Date().toISOString());
  db.close();

  // A server killed with its WAL in place: that WAL must not be replayed into the restored file.
  const live = new Database(join(d, "data", "nimbus.db"));
  live.pragma("wal_autocheckpoint = 0");
  live.prepare("INSERT INTO tenants (tenant_id, created_at) VALUES ('in-wal', '2020-01-01')").run();
  copyFileSync(join(d, "data", "nimbus.db-wal"), join(d, "stale-wal"));
  live.close();
  copyFileSync(join(d, "stale-wal"), join(d, "data", "nimbus.db-wal"));
  const r = restoreDatabase(join(d, "data"), target, new Date("2026-01-02T03:04:05Z"));
  assert.ok(r.keptAside.some((p) => p.endsWith("nimbus.db.before-restore-2026-01-02T03-04-05-000Z")));
  const back = openDatabase(join(d, "data"));
  const ids = new TenantStore(back).list().map((t) => t.tenantId);
  back.close();
  assert.ok(ids.includes("kept"));
  assert.ok(!ids.includes("later"), "the restore went back to the backup");
  assert.ok(!ids.includes("in-wal"), "the old WAL was moved aside, not replayed");
  assert.ok(r.keptAside.some((p) => p.endsWith("-wal")));
  assert.ok(readdirSync(join(d, "data")).some((f) => f.startsWith("nimbus.db.before-restore-")));
});

test("restore refuses a damaged file, a non-Nimbus database and a newer schema, changing nothing", () => {
  const d = tmp();
  const data = join(d, "data");
  openDatabase(data).close();
  const before = statSync(join(data, "nimbus.db")).mtimeMs;
  writeFileSync(join(d, "junk"), "x".repeat(5000));
  assert.throws(
    () => restoreDatabase(data, join(d, "junk")),
    (e: Error) => e instanceof BackupError && /is damaged/.test(e.message),
  );
  const other = new Database(join(d, "other.db"));
  other.exec("CREATE TABLE t (x)");
  other.pragma("user_version = 1");
  other.close();
  assert.throws(() => restoreDatabase(data, join(d, "other.db")), /not a Nimbus database/);
  const newer = join(d, "newer.db");
  const n = openDatabase(join(d, "n"));
  n.pragma("user_version = 9999");
  n.close();
  copyFileSync(join(d, "n", "nimbus.db"), newer);
  assert.throws(() => restoreDatabase(data, newer), /newer Nimbus/);
  assert.equal(statSync(join(data, "nimbus.db")).mtimeMs, before);
  assert.ok(!existsSync(join(data, "nimbus.db.before-restore")));
});
