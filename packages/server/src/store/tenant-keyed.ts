/**
 * One record of a tenant's table, by the tenant and the record's key: every
 * resource table is keyed (tenant_id, <key column>), so the get, the list, the
 * upsert and the delete by that key read the same in every store.
 */
import { type Db, statement } from "./db.js";
import { insertColumns } from "./versioned-insert.js";
import type { RowCodec } from "./row-codec.js";

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

/** The tenant's records in key order. */
export function listByKey<Row>(db: Db, t: TenantKeyedTable, tenantId: string, fromRows: (raws: unknown[]) => Row[]): Row[] {
  return fromRows(statement(db, `SELECT * FROM ${t.table} WHERE tenant_id = ? ORDER BY ${t.keyColumn}`).all(tenantId));
}

/**
 * Inserts the record, or replaces every column of the one under its key but
 * `created_at` (when it was first made stays). `columns` holds tenant_id and
 * the key column.
 */
export function upsertByKey(db: Db, t: TenantKeyedTable, columns: Record<string, unknown>): void {
  const kept = new Set(["tenant_id", t.keyColumn, "created_at"]);
  const sets = Object.keys(columns)
    .filter((c) => !kept.has(c))
    .map((c) => `${c} = excluded.${c}`);
  insertColumns(db, t.table, columns, `ON CONFLICT (tenant_id, ${t.keyColumn}) DO UPDATE SET ${sets.join(", ")}`);
}

/** A tenant-keyed table's records, read and deleted by key: what every such store has. */
export class KeyedRecords<Row> {
  constructor(
    protected readonly db: Db,
    protected readonly t: TenantKeyedTable,
    protected readonly codec: RowCodec<Row>,
  ) {}

  get(tenantId: string, key: string): Row | undefined {
    return getByKey(this.db, this.t, tenantId, key, this.codec.fromRaw);
  }

  delete(tenantId: string, key: string): boolean {
    return deleteByKey(this.db, this.t, tenantId, key);
  }
}

/**
 * A tenant's keyed records kept whole (no versions, no states): secrets,
 * registry credentials, image references. Listed in key order; upserted.
 */
export class TenantKeyedRecords<Row extends { tenantId: string }> extends KeyedRecords<Row> {
  constructor(
    db: Db,
    t: TenantKeyedTable,
    codec: RowCodec<Row>,
    private readonly keyOf: (row: Row) => string,
  ) {
    super(db, t, codec);
  }

  /** Inserts or replaces; true when the key had no record before. */
  upsert(row: Row): boolean {
    const existed = this.get(row.tenantId, this.keyOf(row)) !== undefined;
    upsertByKey(this.db, this.t, this.codec.columns(row));
    return !existed;
  }

  list(tenantId: string): Row[] {
    return listByKey(this.db, this.t, tenantId, this.codec.fromRows);
  }
}
