/**
 * Per-tenant limit overrides, one JSON object per tenant (only the fields the
 * operator pinned). The row goes with its tenant (ON DELETE CASCADE).
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";

export class TenantLimitsStore {
  constructor(private readonly db: Db) {}

  get(tenantId: string): Record<string, number> {
    const row = statement(this.db, "SELECT limits FROM tenant_limits WHERE tenant_id = ?").get(tenantId) as { limits: string } | undefined;
    return row ? (JSON.parse(row.limits) as Record<string, number>) : {};
  }

  put(tenantId: string, overrides: Record<string, number>, updatedAt: string): void {
    statement(
      this.db,
      "INSERT INTO tenant_limits (tenant_id, limits, updated_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET limits = excluded.limits, updated_at = excluded.updated_at",
    ).run(tenantId, JSON.stringify(overrides), updatedAt);
  }
}
