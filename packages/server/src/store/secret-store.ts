/**
 * Tenant secrets' rows (migration 0010). The store sees only sealed values;
 * sealing and opening happen in the domain with the data dir's key.
 */
import type { Db } from "./db.js";
import { rowCodec } from "./row-codec.js";
import type { TenantRecordTimes } from "./record-fields.js";
import { TenantKeyedRecords, type TenantKeyedTable } from "./tenant-keyed.js";

export interface SecretRow extends TenantRecordTimes {
  name: string;
  sealedValue: string;
  hosts: string[];
  header: string;
  format: string;
}

/** Records are keyed (tenant_id, name). */
const TABLE: TenantKeyedTable = { table: "secrets", keyColumn: "name" };
/** Where each field is stored: the hosts as JSON text. */
const CODEC = rowCodec<SecretRow>({ json: ["hosts"] });

export class SecretStore extends TenantKeyedRecords<SecretRow> {
  constructor(db: Db) {
    super(db, TABLE, CODEC, (row) => row.name);
  }
}
