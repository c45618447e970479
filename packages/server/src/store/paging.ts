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

/**
 * The `where`/`args` of a tenant's listing narrowed by `column = value` for
 * each value given (an undefined or empty one narrows nothing, as an absent
 * query parameter).
 */
export function tenantFilter(tenantId: string, equal: Record<string, string | undefined> = {}): Pick<PageRequest, "where" | "args"> {
  const where = ["tenant_id = ?"];
  const args: unknown[] = [tenantId];
  for (const [column, value] of Object.entries(equal)) {
    if (!value) continue;
    where.push(`${column} = ?`);
    args.push(value);
  }
  return { where, args };
}
