/**
 * A concurrency limit per tenant for host work that runs on libuv's thread
 * pool (file reads, writes, opens, renames of the files channel). The pool is
 * shared by the whole server (4 threads by default; exec spawns, mounts and
 * the database's fsync use it too), so one tenant may hold at most `perTenant`
 * of its threads at a time; its further work waits in its own queue, never in
 * front of another tenant's. Each unit of work is short (one open, one 256 KiB
 * read or write), so a tenant's turn always comes back quickly.
 */
export const DEFAULT_FILE_WORK_PER_TENANT = 2;

interface Lane {
  active: number;
  waiting: Array<() => void>;
}

export class TenantWorkLimiter {
  private readonly lanes = new Map<string, Lane>();

  constructor(readonly perTenant = DEFAULT_FILE_WORK_PER_TENANT) {
    if (!Number.isInteger(perTenant) || perTenant < 1) throw new RangeError(`perTenant must be a positive integer, got ${perTenant}`);
  }

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(tenantId);
    if (!lane) this.lanes.set(tenantId, (lane = { active: 0, waiting: [] }));
    if (lane.active >= this.perTenant) await new Promise<void>((resolve) => lane!.waiting.push(resolve));
    else lane.active++;
    try {
      return await work();
    } finally {
      const next = lane.waiting.shift();
      // The slot passes straight to the next waiter, so `active` stays counted.
      if (next) next();
      else if (--lane.active === 0) this.lanes.delete(tenantId);
    }
  }

  /** Work items running now for a tenant (tests). */
  activeOf(tenantId: string): number {
    return this.lanes.get(tenantId)?.active ?? 0;
  }
}
