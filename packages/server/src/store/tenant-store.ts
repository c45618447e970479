/**
 * Tenants and their API keys. Keys are stored as SHA-256 digests of the
 * secret; the key id is public and used to find the row.
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";

export interface TenantRow {
  tenantId: string;
  createdAt: string;
}

export interface ApiKeyRow {
  tenantId: string;
  keyId: string;
  name: string | null;
  secretHash: Buffer;
  createdAt: string;
  lastUsedAt: string | null;
}

export class TenantStore {
  constructor(private readonly db: Db) {}

  /** Returns false when the tenant already exists. */
  insert(tenantId: string, createdAt: string): boolean {
    const r = statement(this.db, "INSERT INTO tenants (tenant_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING").run(tenantId, createdAt);
    return r.changes === 1;
  }

  get(tenantId: string): TenantRow | undefined {
    return statement(this.db, "SELECT tenant_id AS tenantId, created_at AS createdAt FROM tenants WHERE tenant_id = ?").get(tenantId) as TenantRow | undefined;
  }

  list(): TenantRow[] {
    return statement(this.db, "SELECT tenant_id AS tenantId, created_at AS createdAt FROM tenants ORDER BY tenant_id").all() as TenantRow[];
  }

  delete(tenantId: string): boolean {
    return statement(this.db, "DELETE FROM tenants WHERE tenant_id = ?").run(tenantId).changes === 1;
  }

  insertKey(row: ApiKeyRow): void {
    statement(this.db, "INSERT INTO api_keys (tenant_id, key_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)").run(
      row.tenantId,
      row.keyId,
      row.name,
      row.secretHash,
      row.createdAt,
    );
  }

  listKeys(tenantId: string): ApiKeyRow[] {
    return statement(
      this.db,
      "SELECT tenant_id AS tenantId, key_id AS keyId, name, secret_hash AS secretHash, created_at AS createdAt, last_used_at AS lastUsedAt FROM api_keys WHERE tenant_id = ? ORDER BY key_id",
    ).all(tenantId) as ApiKeyRow[];
  }

  /** Lookup by the public key id alone: authentication happens before the tenant is known. */
  findKey(keyId: string): ApiKeyRow | undefined {
    return statement(
      this.db,
      "SELECT tenant_id AS tenantId, key_id AS keyId, name, secret_hash AS secretHash, created_at AS createdAt, last_used_at AS lastUsedAt FROM api_keys WHERE key_id = ?",
    ).get(keyId) as ApiKeyRow | undefined;
  }

  deleteKey(tenantId: string, keyId: string): boolean {
    return statement(this.db, "DELETE FROM api_keys WHERE tenant_id = ? AND key_id = ?").run(tenantId, keyId).changes === 1;
  }

  touchKey(tenantId: string, keyId: string, at: string): void {
    statement(this.db, "UPDATE api_keys SET last_used_at = ? WHERE tenant_id = ? AND key_id = ?").run(at, tenantId, keyId);
  }
}
