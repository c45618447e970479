/**
 * Tenants' registry credentials (migration 0013). The store sees only sealed
 * passwords; sealing and opening happen in the domain with the data dir's key.
 */
import type { Db } from "./db.js";
import { rowCodec } from "./row-codec.js";
import type { TenantRecordTimes } from "./record-fields.js";
import { TenantKeyedRecords, type TenantKeyedTable } from "./tenant-keyed.js";

export interface RegistryCredentialRow extends TenantRecordTimes {
  registry: string;
  username: string;
  sealedPassword: string;
}

/** Records are keyed (tenant_id, registry). */
const TABLE: TenantKeyedTable = { table: "registry_credentials", keyColumn: "registry" };
const CODEC = rowCodec<RegistryCredentialRow>({});

export class RegistryCredentialStore extends TenantKeyedRecords<RegistryCredentialRow> {
  constructor(db: Db) {
    super(db, TABLE, CODEC, (row) => row.registry);
  }
}
