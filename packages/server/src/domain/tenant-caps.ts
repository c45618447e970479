/**
 * Caps on a tenant's concurrent use of the server (issue 15 finding 11):
 * open WebSocket connections and running execs are counted here, in memory
 * (they end with the process); open sessions and images being pulled for sandboxes
 * are counted from the store where they are checked. One past a cap answers
 * 429 `rate.resource_exhausted` naming the limit, so the client knows which
 * one to wait for and the operator which one to raise.
 */
import { AppError } from "./errors.js";
import type { LimitName, TenantLimits } from "./tenant-limits.js";

/** `maxPulls` here counts pulls through the tenant's pull route; its sandboxes' pulls are counted from the store. */
export type CountedCap = "maxWebSockets" | "maxExecs" | "maxPulls";

const WHAT: Record<LimitName, string> = {
  memoryLimitBytes: "bytes of memory",
  cpuCount: "cores",
  pidsLimit: "processes",
  maxSandboxes: "active sandboxes",
  maxSessions: "open sessions",
  maxWebSockets: "open WebSocket connections",
  maxExecs: "execs running",
  maxPulls: "images being pulled (for its sandboxes, or through its pull route)",
};

const NEXT: Partial<Record<LimitName, string>> = {
  maxSandboxes: "stop or delete one first",
  maxSessions: "close one first",
  maxWebSockets: "close one first",
  maxExecs: "wait for one to finish",
  maxPulls: "wait for one to become ready",
};

/** The 429 for one past `name`; the message and detail name the limit. */
export function capReached(tenantId: string, name: LimitName, limit: number): AppError {
  return new AppError(
    "rate.resource_exhausted",
    `tenant \`${tenantId}\` already has ${limit} ${WHAT[name]} (limit ${name} = ${limit}); ${NEXT[name] ?? "lower the use"}, or ask the operator to raise it (nimbus tenant limits set)`,
    { detail: { limitName: name, limit, tenantId } },
  );
}

export class TenantCaps {
  private readonly inUse = new Map<string, number>();

  constructor(private readonly limitsOf: (tenantId: string) => TenantLimits) {}

  /** Takes one slot of `cap` or throws 429; the returned release is idempotent. */
  acquire(tenantId: string, cap: CountedCap): () => void {
    const key = `${cap}\0${tenantId}`;
    const used = this.inUse.get(key) ?? 0;
    const limit = this.limitsOf(tenantId)[cap];
    if (used >= limit) throw capReached(tenantId, cap, limit);
    this.inUse.set(key, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inUse.get(key) ?? 1) - 1;
      if (left <= 0) this.inUse.delete(key);
      else this.inUse.set(key, left);
    };
  }
}
