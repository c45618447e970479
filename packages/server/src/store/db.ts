/**
 * The only module that opens SQLite. One connection, used as the single
 * writer (better-sqlite3 is synchronous, so statements never interleave).
 * Pragmas are set deliberately: busy_timeout first so a stray second process
 * waits instead of failing, WAL for readers, synchronous=FULL because the
 * control records (tenants, keys, sandboxes) must survive power loss.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "./migrations/index.js";

export type Db = Database.Database;

export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "nimbus.db"));
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

/** A monotonically increasing counter used as `resourceVersion` across all records. */
export function nextResourceVersion(db: Db): string {
  const row = db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'resource_version' RETURNING value").get() as { value: number };
  return String(row.value);
}

/** The newest resourceVersion handed out (a collection's version). */
export function currentResourceVersion(db: Db): string {
  return String((db.prepare("SELECT value FROM counters WHERE name = 'resource_version'").get() as { value: number }).value);
}
