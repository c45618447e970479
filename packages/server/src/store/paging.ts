/**
 * Keyset paging shared by every listing: rows sorted by their id (or name)
 * column, `pageToken` = the last key of the previous page, and the count of
 * what remains after this page for the collection's `remainingCount`.
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";

export interface PageRequest {
  /** Conditions already scoped to the tenant, e.g. ["tenant_id = ?"]. */
  where: string[];
  args: unknown[];
  limit: number;
  pageToken?: string;
}

export function keysetPage<Raw>(db: Db, table: string, keyColumn: string, req: PageRequest): { rows: Raw[]; remaining: number } {
  const where = req.pageToken === undefined ? req.where : [...req.where, `${keyColumn} > ?`];
  const args = req.pageToken === undefined ? req.args : [...req.args, req.pageToken];
  const w = where.join(" AND ");
  const rows = statement(db, `SELECT * FROM ${table} WHERE ${w} ORDER BY ${keyColumn} LIMIT ?`).all(...args, req.limit) as Raw[];
  const total = (statement(db, `SELECT COUNT(*) AS n FROM ${table} WHERE ${w}`).get(...args) as { n: number }).n;
  return { rows, remaining: Math.max(0, total - rows.length) };
}
