/**
 * The operator's default lifetime for a tenant's new sandboxes (issue 18):
 * `PUT /api/tenants/{t}/lifetime`. A sandbox's own `spec.lifetime` fields win
 * over it; sandboxes already created keep the lifetime they were created with.
 */
import type { TenantLifetimeStore } from "../store/tenant-lifetime-store.js";
import type { LifetimeSpec } from "@nimbus/nimbus";

export interface TenantLifetimeView {
  tenantId: string;
  lifetime: LifetimeSpec;
}

export class TenantLifetimes {
  private readonly cache = new Map<string, LifetimeSpec | undefined>();

  constructor(
    private readonly store: TenantLifetimeStore,
    private readonly requireTenant: (tenantId: string) => void,
  ) {}

  /** The default, if any (read from the store once per tenant). */
  of(tenantId: string): LifetimeSpec | undefined {
    if (!this.cache.has(tenantId)) this.cache.set(tenantId, this.store.get(tenantId));
    return this.cache.get(tenantId);
  }

  view(tenantId: string): TenantLifetimeView {
    this.requireTenant(tenantId);
    return { tenantId, lifetime: this.of(tenantId) ?? {} };
  }

  /** Replaces the default; `{}` removes it. */
  set(tenantId: string, lifetime: LifetimeSpec): TenantLifetimeView {
    this.requireTenant(tenantId);
    if (lifetime.ttlSeconds === undefined && lifetime.idleTimeoutSeconds === undefined && lifetime.onExpire === undefined) {
      this.store.remove(tenantId);
      this.cache.set(tenantId, undefined);
    } else {
      this.store.put(tenantId, lifetime, new Date().toISOString());
      this.cache.set(tenantId, { ...lifetime });
    }
    return this.view(tenantId);
  }

  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}
