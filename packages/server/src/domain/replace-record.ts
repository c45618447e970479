/**
 * Create-or-replace of a tenant's keyed record (secrets, registry
 * credentials): a replaced record keeps when it was first made, and the
 * caller learns which of the two happened.
 */
import type { TenantRecordTimes } from "../store/record-fields.js";

/** The store side: a record by its key, and the upsert that says whether it was new. */
export interface ReplaceableStore<Row> {
  get(tenantId: string, key: string): Row | undefined;
  upsert(row: Row): boolean;
}

export function replaceRecord<Row extends TenantRecordTimes, View>(
  store: ReplaceableStore<Row>,
  key: string,
  fields: Omit<Row, "createdAt" | "updatedAt">,
  viewOf: (row: Row) => View,
): { view: View; created: boolean } {
  const now = new Date().toISOString();
  const createdAt = store.get(fields.tenantId, key)?.createdAt ?? now;
  const row = { ...fields, createdAt, updatedAt: now } as Row;
  const created = store.upsert(row);
  return { view: viewOf(row), created };
}
