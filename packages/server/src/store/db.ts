/**
 * The only module that opens SQLite. One connection, used as the single
 * writer (better-sqlite3 is synchronous, so statements never interleave).
 * Pragmas are set deliberately: busy_timeout first so a stray second process
 * waits instead of failing, WAL for readers, synchronous=FULL because the
 * control records (tenants, keys, sandboxes) must survive power loss.
 */
import Database from "better-sqlite3";
import { closeSync, openSync } from "node:fs";
import { ensurePrivateDirSync, tightenFileSync, PRIVATE_FILE_MODE } from "../host/private-fs.js";
import { join } from "node:path";
import { MIGRATIONS } from "./migrations/index.js";

export type Db = Database.Database;

export function openDatabase(dataDir: string): Db {
  ensurePrivateDirSync(dataDir);
  const path = join(dataDir, "nimbus.db");
  // Create the file 0600 before SQLite does (it would use 0644); SQLite gives
  // the -wal and -shm files the database file's mode.
  closeSync(openSync(path, "a", PRIVATE_FILE_MODE));
  for (const suffix of ["", "-wal", "-shm"]) tightenFileSync(path + suffix);
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  migrate(db);
  return db;
}

/** Apply every migration newer than the recorded user_version, each in its own transaction. */
export function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The prepared statement for `sql` on this connection, prepared once: preparing
 * costs more than running most of our statements, and every create, transition
 * and GET runs several. The SQL texts are a fixed set (dynamic parts are only
 * placeholder counts and column lists), so the cache stays small.
 */
export function statement(db: Db, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  let st = byText.get(sql);
  if (!st) byText.set(sql, (st = db.prepare(sql)));
  return st;
}

/**
 * Runs `commit` (a function that commits one transaction) with
 * synchronous=NORMAL instead of FULL: in WAL mode that commit survives a crash
 * of this process but not a power loss, until the next FULL commit syncs the
 * log up to and including it. Only for observed state that the boot reconciler
 * derives again from the host (where a power loss resets it too), never for
 * what a caller asked for. Saves one fsync, which under container churn waits
 * for the filesystem journal (2-4 ms on the sandbox start path).
 */
export function withoutFsync<T>(db: Db, commit: () => T): T {
  statement(db, "PRAGMA synchronous = NORMAL").run();
  try {
    return commit();
  } finally {
    statement(db, "PRAGMA synchronous = FULL").run();
  }
}

/** A monotonically increasing counter used as `resourceVersion` across all records. */
export function nextResourceVersion(db: Db): string {
  const row = statement(db, "UPDATE counters SET value = value + 1 WHERE name = 'resource_version' RETURNING value").get() as { value: number };
  return String(row.value);
}

/** The newest resourceVersion handed out (a collection's version). */
export function currentResourceVersion(db: Db): string {
  return String((statement(db, "SELECT value FROM counters WHERE name = 'resource_version'").get() as { value: number }).value);
}
