/**
 * The start-time guard of issue 15, finding 13: never boot on a database that
 * is missing, emptied or damaged while the data dir holds sandboxes. A fresh
 * database there would make every running sandbox an orphan, and a damaged
 * one answers 500s. The guard runs before the database is created or
 * migrated and before the runtime is touched, so a refusal changes nothing.
 */
import { join } from "node:path";
import { databasePath, inspectDatabaseFile } from "./store/db-health.js";
import { containersOnDisk } from "./runtime/index.js";

/** Why the server must not start, or undefined when it may (healthy, or fresh with no sandboxes). */
export function databaseRefusal(dataDir: string): string | undefined {
  const db = databasePath(dataDir);
  const health = inspectDatabaseFile(db);
  if (health.kind === "ok") return undefined;
  const containers = containersOnDisk(join(dataDir, "runtime"));
  const restore = `Restore it from a backup with \`nimbus restore <backup-file> --data-dir ${dataDir}\` (made by \`nimbus backup\`), then start again.`;
  const held =
    containers.length > 0
      ? `while the data dir holds ${containers.length} sandbox container(s) (${containers.slice(0, 3).join(", ")}${containers.length > 3 ? ", …" : ""}) under ${join(dataDir, "runtime")}`
      : "";
  const untouched = "Nothing was changed and no sandbox was touched.";
  if (health.kind === "corrupt") {
    const fresh =
      containers.length > 0 ? "" : ` With no sandboxes to keep, you may instead move ${db} (and its -wal, -shm) aside to start with an empty database.`;
    return `refusing to start: ${db} is damaged (quick_check: ${health.detail})${held ? ` ${held}` : ""}. ${restore}${fresh} ${untouched}`;
  }
  if (containers.length === 0) return undefined; // a fresh data dir, or one with nothing running to lose
  const what = health.kind === "missing" ? "is missing" : `is empty (${health.sizeBytes} bytes, no tables)`;
  return `refusing to start: ${db} ${what} ${held}; a fresh database would remove them as orphans. ${restore} ${untouched}`;
}
