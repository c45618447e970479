/**
 * The one way records are created: the given columns plus a fresh
 * resourceVersion. Call it inside the caller's transaction, so the counter and
 * the row commit together. `inserted` is false when the `conflict` clause
 * (e.g. `ON CONFLICT (…) DO NOTHING`) skipped the row.
 */
import { nextResourceVersion, type Db, statement } from "./db.js";

export function versionedInsert(db: Db, table: string, columns: Record<string, unknown>, conflict = ""): { resourceVersion: string; inserted: boolean } {
  const resourceVersion = nextResourceVersion(db);
  const changes = insertColumns(db, table, { ...columns, resource_version: resourceVersion }, conflict);
  return { resourceVersion, inserted: changes === 1 };
}

/** `INSERT INTO table (columns…) VALUES (values…) conflict`; the count of rows it changed. */
export function insertColumns(db: Db, table: string, columns: Record<string, unknown>, conflict = ""): number {
  const names = Object.keys(columns);
  const sql = `INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")}) ${conflict}`;
  return statement(db, sql.trimEnd()).run(...Object.values(columns)).changes;
}
