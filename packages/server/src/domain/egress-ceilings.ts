/**
 * Tenants' egress ceilings as the operator sets them (egress-ceiling.ts says
 * what one means). A tenant without one gets the default.
 */
import type { TenantEgressStore } from "../store/tenant-egress-store.js";
import { checkCeiling, DEFAULT_CEILING, parseStoredCeiling, type EgressCeiling } from "./egress-ceiling.js";

export interface CeilingView extends EgressCeiling {
  /** false while the tenant runs under the default. */
  custom: boolean;
  updatedAt: string | null;
}

export class EgressCeilings {
  constructor(
    private readonly store: TenantEgressStore,
    private readonly tenants: { require(tenantId: string): void },
  ) {}

  get(tenantId: string): CeilingView {
    this.tenants.require(tenantId);
    const row = this.store.get(tenantId);
    if (!row) return { ...DEFAULT_CEILING, custom: false, updatedAt: null };
    return { ...parseStoredCeiling(row.ceiling), custom: true, updatedAt: row.updatedAt };
  }

  set(tenantId: string, ceiling: EgressCeiling): CeilingView {
    this.tenants.require(tenantId);
    const checked = checkCeiling(ceiling);
    const updatedAt = new Date().toISOString();
    this.store.put(tenantId, checked, updatedAt);
    return { ...checked, custom: true, updatedAt };
  }
}
