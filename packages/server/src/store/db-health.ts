/**
 * Is `nimbus.db` usable? Asked at start, before anything is created or
 * migrated, so a missing, emptied or damaged database is never mistaken for a
 * fresh one (a fresh server would remove every running sandbox as an orphan).
 * `PRAGMA quick_check` reads every page (O(size), no index cross-checks).
 */
import Database from "better-sqlite3";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export type DatabaseHealth =
  | { kind: "ok" }
  | { kind: "missing" }
  /** The file exists but holds no schema (e.g. truncated to 0 bytes). */
  | { kind: "empty"; sizeBytes: number }
  | { kind: "corrupt"; detail: string };

export function databasePath(dataDir: string): string {
  return join(dataDir, "nimbus.db");
}

/** The health of the SQLite file at `path` (a data dir's nimbus.db, or a backup). */
export function inspectDatabaseFile(path: string): DatabaseHealth {
  if (!existsSync(path)) return { kind: "missing" };
  const sizeBytes = statSync(path).size;
  let db: Database.Database | undefined;
  try {
    // Read-write so a WAL left by a killed server can be read (a read-only open needs its -shm); nothing is written.
    db = new Database(path, { fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    const rows = db.pragma("quick_check") as Array<{ quick_check: string }>;
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== "ok");
    if (problems.length > 0) return { kind: "corrupt", detail: problems.slice(0, 3).join("; ") };
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (tables === 0) return { kind: "empty", sizeBytes };
    return { kind: "ok" };
  } catch (err) {
    return { kind: "corrupt", detail: (err as Error).message };
  } finally {
    db?.close();
  }
}

/** The schema version a healthy database file carries (its applied migrations). */
export function schemaVersion(path: string): number {
  const db = new Database(path, { fileMustExist: true });
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } finally {
    db.close();
  }
}
