/**
 * Tenants' registry credentials (migration 0013). The store sees only sealed
 * passwords; sealing and opening happen in the domain with the data dir's key.
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";

export interface RegistryCredentialRow {
  tenantId: string;
  registry: string;
  username: string;
  sealedPassword: string;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = "tenant_id AS tenantId, registry, username, sealed_password AS sealedPassword, created_at AS createdAt, updated_at AS updatedAt";

export class RegistryCredentialStore {
  constructor(private readonly db: Db) {}

  /** Inserts or replaces; true when the registry had no credentials before. */
  upsert(row: RegistryCredentialRow): boolean {
    const existed = this.get(row.tenantId, row.registry) !== undefined;
    statement(
      this.db,
      `INSERT INTO registry_credentials (tenant_id, registry, username, sealed_password, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, registry) DO UPDATE SET username = excluded.username, sealed_password = excluded.sealed_password, updated_at = excluded.updated_at`,
    ).run(row.tenantId, row.registry, row.username, row.sealedPassword, row.createdAt, row.updatedAt);
    return !existed;
  }

  get(tenantId: string, registry: string): RegistryCredentialRow | undefined {
    return statement(this.db, `SELECT ${COLUMNS} FROM registry_credentials WHERE tenant_id = ? AND registry = ?`).get(tenantId, registry) as
      RegistryCredentialRow | undefined;
  }

  list(tenantId: string): RegistryCredentialRow[] {
    return statement(this.db, `SELECT ${COLUMNS} FROM registry_credentials WHERE tenant_id = ? ORDER BY registry`).all(tenantId) as RegistryCredentialRow[];
  }

  delete(tenantId: string, registry: string): boolean {
    return statement(this.db, "DELETE FROM registry_credentials WHERE tenant_id = ? AND registry = ?").run(tenantId, registry).changes === 1;
  }
}
