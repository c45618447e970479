/**
 * Tenant limits: aggregate ceilings over all of a tenant's sandboxes (memory,
 * CPU, pids — enforced by the kernel on one cgroup group per tenant — and the
 * sandbox count) and caps on concurrent use of the server (sessions, WebSocket
 * connections, execs, pulls), answered with 429 `rate.resource_exhausted`.
 * Each tenant follows the server-wide defaults except where the operator
 * pinned a value (PUT /api/tenants/{t}/limits); a `null` unpins it.
 */
import { createHash } from "node:crypto";
import type { TenantLimitsStore } from "../store/tenant-limits-store.js";
import type { GroupLimits, RuntimeBackend } from "../runtime/backend.js";
import type { HostSize } from "../host/host-size.js";
import type { TenantLimits } from "@nimbus/nimbus";
import { AppError } from "./errors.js";

/** A tenant's limits: the SDK's wire type, one definition for client, config and domain. */
export type { TenantLimits };

export type LimitName = keyof TenantLimits;
export const LIMIT_NAMES: readonly LimitName[] = [
  "memoryLimitBytes",
  "cpuCount",
  "pidsLimit",
  "maxSandboxes",
  "maxSessions",
  "maxWebSockets",
  "maxExecs",
  "maxPulls",
];

/** Server-wide defaults; 0 for memory, cpu and pids means "derive from the host". */
export type LimitDefaults = TenantLimits;

/** Fills the host-derived defaults: 75% of RAM, every core, a quarter of pid_max. */
export function resolveDefaults(configured: LimitDefaults, host: HostSize): TenantLimits {
  return {
    ...configured,
    memoryLimitBytes: configured.memoryLimitBytes || Math.floor((host.memoryBytes * 0.75) / 4096) * 4096,
    cpuCount: configured.cpuCount || host.cpuCount,
    pidsLimit: configured.pidsLimit || Math.max(1024, Math.floor(host.pidMax / 4)),
  };
}

/** Ceilings for the server's whole share of the host: all tenants together. */
export function serverCeilings(host: HostSize): GroupLimits {
  return resolveDefaults({ memoryLimitBytes: 0, cpuCount: 0, pidsLimit: 0 } as TenantLimits, host);
}

export interface TenantLimitsView {
  limits: TenantLimits;
  defaults: TenantLimits;
  /** The fields pinned for this tenant. */
  overrides: Partial<TenantLimits>;
}

export class TenantLimitsService {
  private readonly cache = new Map<string, TenantLimits>();

  constructor(
    private readonly deps: {
      store: TenantLimitsStore;
      runtime: RuntimeBackend;
      defaults: TenantLimits;
      requireTenant: (tenantId: string) => void;
      /** The host's cores: a tenant's CPU ceiling cannot exceed the server's own. */
      maxCpuCount: number;
    },
  ) {}

  /** The effective limits (cached; the store is read once per tenant). */
  of(tenantId: string): TenantLimits {
    let limits = this.cache.get(tenantId);
    if (!limits) {
      limits = { ...this.deps.defaults, ...(this.deps.store.get(tenantId) as Partial<TenantLimits>) };
      this.cache.set(tenantId, limits);
    }
    return limits;
  }

  view(tenantId: string): TenantLimitsView {
    this.deps.requireTenant(tenantId);
    return { limits: { ...this.of(tenantId) }, defaults: { ...this.deps.defaults }, overrides: this.deps.store.get(tenantId) as Partial<TenantLimits> };
  }

  /** Pins the given fields (null unpins); the kernel gets new ceilings at once. */
  async set(tenantId: string, patch: Partial<Record<LimitName, number | null>>): Promise<TenantLimitsView> {
    this.deps.requireTenant(tenantId);
    const overrides: Partial<TenantLimits> = { ...(this.deps.store.get(tenantId) as Partial<TenantLimits>) };
    for (const name of LIMIT_NAMES) {
      const v = patch[name];
      if (v === null) delete overrides[name];
      else if (v !== undefined) overrides[name] = v;
    }
    const next = { ...this.deps.defaults, ...overrides };
    if (next.cpuCount > this.deps.maxCpuCount) {
      throw new AppError(
        "op.invalid_input",
        `cpuCount ${next.cpuCount} is more than this host's ${this.deps.maxCpuCount} cores: choose ${this.deps.maxCpuCount} or less`,
        { detail: { field: "cpuCount" } },
      );
    }
    try {
      await this.deps.runtime.updateGroup(groupName(tenantId), groupLimits(next));
    } catch (err) {
      throw new AppError(
        "op.conflict",
        `the new ceilings are below what tenant \`${tenantId}\`'s running sandboxes use or ask for: stop some sandboxes, or choose higher values`,
        {
          detail: { tenantId },
          cause: err,
        },
      );
    }
    this.deps.store.put(tenantId, overrides as Record<string, number>, new Date().toISOString());
    this.cache.set(tenantId, next);
    return this.view(tenantId);
  }

  /** The runtime group a tenant's sandboxes are placed in, with its ceilings. */
  group(tenantId: string): { name: string; limits: GroupLimits } {
    return { name: groupName(tenantId), limits: groupLimits(this.of(tenantId)) };
  }

  /** After the tenant's sandboxes are gone: drop the group and the cached limits. */
  async forget(tenantId: string): Promise<void> {
    this.cache.delete(tenantId);
    await this.deps.runtime.removeGroup(groupName(tenantId));
  }
}

/** Tenant ids allow upper case and `_`; runtime names are [a-z0-9-], so the group is named by a hash. */
export function groupName(tenantId: string): string {
  return `t-${createHash("sha256").update(tenantId).digest("hex").slice(0, 16)}`;
}

function groupLimits(l: TenantLimits): GroupLimits {
  return { memoryLimitBytes: l.memoryLimitBytes, cpuCount: l.cpuCount, pidsLimit: l.pidsLimit };
}
