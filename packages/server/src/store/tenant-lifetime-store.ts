/**
 * Each tenant's default sandbox lifetime (issue 18), one JSON object per
 * tenant, set by the operator. The row goes with its tenant (ON DELETE CASCADE).
 */
import type { LifetimeSpec } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { statement } from "./db.js";

export class TenantLifetimeStore {
  constructor(private readonly db: Db) {}

  get(tenantId: string): LifetimeSpec | undefined {
    const row = statement(this.db, "SELECT lifetime FROM tenant_lifetimes WHERE tenant_id = ?").get(tenantId) as { lifetime: string } | undefined;
    return row ? (JSON.parse(row.lifetime) as LifetimeSpec) : undefined;
  }

  put(tenantId: string, lifetime: LifetimeSpec, updatedAt: string): void {
    statement(
      this.db,
      "INSERT INTO tenant_lifetimes (tenant_id, lifetime, updated_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET lifetime = excluded.lifetime, updated_at = excluded.updated_at",
    ).run(tenantId, JSON.stringify(lifetime), updatedAt);
  }

  remove(tenantId: string): void {
    statement(this.db, "DELETE FROM tenant_lifetimes WHERE tenant_id = ?").run(tenantId);
  }
}
