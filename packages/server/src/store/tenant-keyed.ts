/**
 * One record of a tenant's table, by the tenant and the record's key: every
 * resource table is keyed (tenant_id, <key column>), so the get and the delete
 * by that key read the same in every store.
 */
import { type Db, statement } from "./db.js";

/** A table keyed (tenant_id, `keyColumn`). */
export interface TenantKeyedTable {
  table: string;
  keyColumn: string;
}

/** The record as `fromRaw` maps its row, or undefined when the tenant has no record under `key`. */
export function getByKey<Raw, Row>(db: Db, t: TenantKeyedTable, tenantId: string, key: string, fromRaw: (r: Raw) => Row): Row | undefined {
  const r = statement(db, `SELECT * FROM ${t.table} WHERE tenant_id = ? AND ${t.keyColumn} = ?`).get(tenantId, key) as Raw | undefined;
  return r && fromRaw(r);
}

/** True when a record was there and is now gone. */
export function deleteByKey(db: Db, t: TenantKeyedTable, tenantId: string, key: string): boolean {
  return statement(db, `DELETE FROM ${t.table} WHERE tenant_id = ? AND ${t.keyColumn} = ?`).run(tenantId, key).changes === 1;
}
