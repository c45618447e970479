/** Tenants' egress ceilings (migration 0011), stored as the JSON the domain checked. */
import type { Db } from "./db.js";
import { statement } from "./db.js";

export class TenantEgressStore {
  constructor(private readonly db: Db) {}

  get(tenantId: string): { ceiling: unknown; updatedAt: string } | undefined {
    const r = statement(this.db, "SELECT ceiling, updated_at AS updatedAt FROM tenant_egress WHERE tenant_id = ?").get(tenantId) as
      { ceiling: string; updatedAt: string } | undefined;
    return r && { ceiling: JSON.parse(r.ceiling) as unknown, updatedAt: r.updatedAt };
  }

  put(tenantId: string, ceiling: unknown, updatedAt: string): void {
    statement(
      this.db,
      "INSERT INTO tenant_egress (tenant_id, ceiling, updated_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET ceiling = excluded.ceiling, updated_at = excluded.updated_at",
    ).run(tenantId, JSON.stringify(ceiling), updatedAt);
  }
}
