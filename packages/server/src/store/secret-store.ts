/**
 * Tenant secrets' rows (migration 0010). The store sees only sealed values;
 * sealing and opening happen in the domain with the data dir's key.
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";

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

interface Raw extends Omit<SecretRow, "hosts"> {
  hosts: string;
}

const COLUMNS = "tenant_id AS tenantId, name, sealed_value AS sealedValue, hosts, header, format, created_at AS createdAt, updated_at AS updatedAt";
const parse = (r: Raw): SecretRow => ({ ...r, hosts: JSON.parse(r.hosts) as string[] });

export class SecretStore {
  constructor(private readonly db: Db) {}

  /** Inserts or replaces; true when the secret is new. */
  upsert(row: SecretRow): boolean {
    const existed = this.get(row.tenantId, row.name) !== undefined;
    statement(
      this.db,
      `INSERT INTO secrets (tenant_id, name, sealed_value, hosts, header, format, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, name) DO UPDATE SET sealed_value = excluded.sealed_value, hosts = excluded.hosts, header = excluded.header,
         format = excluded.format, updated_at = excluded.updated_at`,
    ).run(row.tenantId, row.name, row.sealedValue, JSON.stringify(row.hosts), row.header, row.format, row.createdAt, row.updatedAt);
    return !existed;
  }

  get(tenantId: string, name: string): SecretRow | undefined {
    const r = statement(this.db, `SELECT ${COLUMNS} FROM secrets WHERE tenant_id = ? AND name = ?`).get(tenantId, name) as Raw | undefined;
    return r && parse(r);
  }

  list(tenantId: string): SecretRow[] {
    return (statement(this.db, `SELECT ${COLUMNS} FROM secrets WHERE tenant_id = ? ORDER BY name`).all(tenantId) as Raw[]).map(parse);
  }

  delete(tenantId: string, name: string): boolean {
    return statement(this.db, "DELETE FROM secrets WHERE tenant_id = ? AND name = ?").run(tenantId, name).changes === 1;
  }
}
