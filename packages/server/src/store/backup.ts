/**
 * Backup and restore of `nimbus.db` (issue 15, finding 13). Backup is online:
 * SQLite's backup API through a second connection, which reads a consistent
 * snapshot while the server keeps writing (WAL mode). Restore is offline (the
 * caller holds the data-dir lock): the file is checked first, the current
 * database and its -wal/-shm are kept aside, and the copy lands by rename.
 */
import Database from "better-sqlite3";
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { MIGRATIONS } from "./migrations/index.js";
import { databasePath, inspectDatabaseFile, schemaVersion, type DatabaseHealth } from "./db-health.js";
import { ensurePrivateDirSync, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../host/private-fs.js";

export class BackupError extends Error {}

function describe(health: DatabaseHealth): string {
  switch (health.kind) {
    case "missing":
      return "does not exist";
    case "empty":
      return `holds no database (${health.sizeBytes} bytes, no tables)`;
    case "corrupt":
      return `is damaged (${health.detail})`;
    case "ok":
      return "is healthy";
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copy the data dir's database to `target` (0600; replaced atomically if it exists). Works while a server runs. */
export async function backupDatabase(dataDir: string, target: string): Promise<{ path: string; schemaVersion: number }> {
  const source = databasePath(dataDir);
  if (!existsSync(source)) throw new BackupError(`no database at ${source}: check --data-dir`);
  const out = resolve(target);
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString("hex")}.tmp`);
  // Directories it has to create are private; an existing one is the user's choice and left as it is.
  mkdirSync(dirname(out), { recursive: true, mode: PRIVATE_DIR_MODE });
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    // Created 0600 first: the backup holds every sandbox's env and the API key digests.
    closeSync(openSync(tmp, "wx", PRIVATE_FILE_MODE));
    await db.backup(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new BackupError(`backing up ${source} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  const health = inspectDatabaseFile(tmp);
  if (health.kind !== "ok") {
    rmSync(tmp, { force: true });
    throw new BackupError(`the copy of ${source} ${describe(health)}; the database itself may be damaged: run \`nimbus restore\` from an older backup`);
  }
  chmodSync(tmp, PRIVATE_FILE_MODE);
  fsyncPath(tmp);
  renameSync(tmp, out);
  fsyncPath(dirname(out));
  return { path: out, schemaVersion: schemaVersion(out) };
}

export interface RestoreResult {
  /** Where the previous nimbus.db (and its -wal/-shm) were moved; empty when there was none. */
  keptAside: string[];
  schemaVersion: number;
}

/**
 * Replace the data dir's database with `file`. The caller must hold the
 * data-dir lock (no server may run on it). Refuses a file that is not a
 * healthy Nimbus database, or one from a newer Nimbus.
 */
export function restoreDatabase(dataDir: string, file: string, now = new Date()): RestoreResult {
  const source = resolve(file);
  const health = inspectDatabaseFile(source);
  if (health.kind !== "ok") throw new BackupError(`${source} ${describe(health)}; nothing was changed. Pick another backup file`);
  const version = schemaVersion(source);
  const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (version < 1) throw new BackupError(`${source} is an SQLite file but not a Nimbus database (no schema version); nothing was changed`);
  if (version > newest)
    throw new BackupError(`${source} was written by a newer Nimbus (schema ${version}, this one knows ${newest}); upgrade nimbus first. Nothing was changed`);
  const probe = new Database(source, { fileMustExist: true });
  try {
    const has = (name: string) => probe.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (!has("tenants") || !has("sandboxes"))
      throw new BackupError(`${source} is an SQLite file but not a Nimbus database (no tenants/sandboxes tables); nothing was changed`);
  } finally {
    probe.close();
  }

  ensurePrivateDirSync(dataDir);
  const target = databasePath(dataDir);
  const tmp = join(dataDir, `.nimbus.db.restore-${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", PRIVATE_FILE_MODE);
  closeSync(fd);
  try {
    copyFileSync(source, tmp);
    chmodSync(tmp, PRIVATE_FILE_MODE);
    fsyncPath(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new BackupError(`copying ${source} into ${dataDir} failed: ${(err as Error).message}; nothing was changed`);
  }
  // The old -wal must go with the old database: SQLite would replay it into the restored one.
  const aside = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, "-")}`;
  const keptAside: string[] = [];
  for (const suffix of ["", "-wal", "-shm"]) {
    if (!existsSync(target + suffix)) continue;
    renameSync(target + suffix, aside + suffix);
    keptAside.push(aside + suffix);
  }
  renameSync(tmp, target);
  fsyncPath(dataDir);
  return { keptAside, schemaVersion: version };
}
