/**
 * The one way records change: the given columns plus a fresh
 * resourceVersion and updatedAt, in one transaction, returning the new row
 * (undefined when the WHERE guard matched nothing — a lost race or a stale
 * generation).
 */
import { nextResourceVersion, type Db, statement } from "./db.js";

export function versionedUpdate<Raw = Record<string, unknown>>(
  db: Db,
  table: string,
  columns: Record<string, unknown>,
  where: string,
  whereArgs: unknown[],
): Raw | undefined {
  const sets = [...Object.keys(columns).map((c) => `${c} = ?`), "resource_version = ?", "updated_at = ?"];
  return db.transaction(() => {
    const rv = nextResourceVersion(db);
    return statement(db, `UPDATE ${table} SET ${sets.join(", ")} WHERE ${where} RETURNING *`).get(
      ...Object.values(columns),
      rv,
      new Date().toISOString(),
      ...whereArgs,
    ) as Raw | undefined;
  })();
}
