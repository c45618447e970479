/**
 * Tenant secrets' rows (migration 0010). The store sees only sealed values;
 * sealing and opening happen in the domain with the data dir's key.
 */
import type { Db } from "./db.js";
import { json, rowCodec } from "./row-codec.js";
import { TenantKeyedRecords, type TenantKeyedTable } from "./tenant-keyed.js";

export interface SecretRow {
  tenantId: string;
  name: string;
  sealedValue: string;
  hosts: string[];
  header: string;
  format: string;
  createdAt: string;
  updatedAt: string;
}

/** Records are keyed (tenant_id, name). */
const TABLE: TenantKeyedTable = { table: "secrets", keyColumn: "name" };
/** Where each field is stored: the hosts as JSON text. */
const CODEC = rowCodec<SecretRow>({
  tenantId: "tenant_id",
  name: "name",
  sealedValue: "sealed_value",
  hosts: json("hosts"),
  header: "header",
  format: "format",
  createdAt: "created_at",
  updatedAt: "updated_at",
});

export class SecretStore extends TenantKeyedRecords<SecretRow> {
  constructor(db: Db) {
    super(db, TABLE, CODEC, (row) => row.name);
  }
}
