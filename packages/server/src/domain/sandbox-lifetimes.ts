/**
 * Sandbox lifetimes (issue 18): a TTL counted from create and an idle timeout
 * counted from the last activity. Both deadlines are stored on the sandbox
 * record, so a restarted server re-arms them and one that passed while it was
 * down fires at start. One timer (LeaseScheduler) watches the earliest
 * deadline; when it fires the sandbox is stopped with reason `expired`, and
 * deleted too when its lifetime says `onExpire: "delete"`.
 *
 * Activity is one record, `touch(tenantId, id)`, called by whatever uses the
 * sandbox: the stdio channel, exec, sessions, the service proxy (and the
 * processes API). It is kept in memory and written to the record at most once
 * per tenth of the idle timeout, so streaming costs no store write per chunk;
 * an open session also counts as activity for as long as it is open.
 */
import type { Logger } from "../log.js";
import type { SandboxRow, SandboxStore } from "../store/sandbox-store.js";
import type { LifetimeSpec } from "@nimbus/nimbus";
import { AppError, invalidInput, notFound, found } from "./errors.js";
import { TERMINAL_STATES, type SandboxState } from "./sandbox-state.js";
import { LeaseScheduler } from "./lease-scheduler.js";

export type { LifetimeSpec };

/** The furthest an extend may move a deadline past now: 7 days. */
export const MAX_EXTEND_AHEAD_SECONDS = 7 * 24 * 3600;

/** What extend takes: seconds to add to the current deadline (or to now, without one), or a new deadline. */
export type ExtendInput = { addSeconds: number } | { expiresAt: string };

export interface LifetimeSandboxes {
  find(tenantId: string, id: string): SandboxRow | undefined;
  /** Stop with reason `expired`. */
  expire(tenantId: string, id: string, message: string): Promise<unknown>;
  delete(tenantId: string, id: string): Promise<void>;
}

export interface SandboxLifetimesDeps {
  store: Pick<SandboxStore, "withDeadlines" | "setIdleDeadline" | "update" | "get">;
  sandboxes: LifetimeSandboxes;
  /** True while a session on the sandbox is open: the sandbox is in use. */
  hasOpenSession(tenantId: string, sandboxId: string): boolean;
  log: Logger;
  now?: () => number;
}

interface IdleState {
  idleTimeoutMs: number;
  /** The deadline as last written to the record. */
  storedMs: number;
  /** The deadline the latest activity asks for. */
  wantedMs: number;
}

/** The lifetime a new sandbox gets: its own fields over the tenant's default; undefined when neither sets a deadline. */
export function resolveLifetime(own: LifetimeSpec | undefined, tenantDefault: LifetimeSpec | undefined): LifetimeSpec | undefined {
  const merged: LifetimeSpec = { ...tenantDefault, ...own };
  if (merged.ttlSeconds === undefined && merged.idleTimeoutSeconds === undefined) return undefined;
  return { ...merged, onExpire: merged.onExpire ?? "stop" };
}

/** The deadlines a sandbox created at `nowMs` with `lifetime` starts with. */
export function initialDeadlines(lifetime: LifetimeSpec | undefined, nowMs: number): { expiresAt: string | null; idleExpiresAt: string | null } {
  const at = (s: number | undefined) => (s === undefined ? null : new Date(nowMs + s * 1000).toISOString());
  return { expiresAt: at(lifetime?.ttlSeconds), idleExpiresAt: at(lifetime?.idleTimeoutSeconds) };
}

export class SandboxLifetimes {
  private readonly scheduler: LeaseScheduler;
  /** Per sandbox with an idle timeout its state; `null` for one without (so touch reads the store once). */
  private readonly idle = new Map<string, IdleState | null>();
  /** Sandboxes whose expiry is under way: the timer skips them. */
  private readonly expiring = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly deps: SandboxLifetimesDeps) {
    this.now = deps.now ?? Date.now;
    this.scheduler = new LeaseScheduler({
      nextDeadlineMs: () => this.nextDeadlineMs(),
      expireDue: (nowMs) => this.expireDue(nowMs),
      log: deps.log,
      now: this.now,
    });
  }

  /** Boot, after the reconciler: what passed while the server was down fires now, the rest on time. */
  start(): void {
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  /** A deadline was set or moved (create, extend): re-read the earliest. */
  arm(): void {
    this.scheduler.arm();
  }

  /**
   * The sandbox was used just now. Cheap: no store read after the first, and a
   * store write only when the deadline moved by a tenth of the timeout.
   */
  touch(tenantId: string, id: string): void {
    let state = this.idle.get(id);
    if (state === null) return;
    if (!state) {
      const row = this.deps.store.get(tenantId, id);
      // A finished sandbox is not remembered: onSandboxChange already forgot it.
      if (!row || TERMINAL_STATES.includes(row.lifecycleState)) return;
      const seconds = row.spec.lifetime?.idleTimeoutSeconds;
      if (seconds === undefined || row.idleExpiresAt === null) {
        this.idle.set(id, null);
        return;
      }
      state = { idleTimeoutMs: seconds * 1000, storedMs: Date.parse(row.idleExpiresAt), wantedMs: 0 };
      this.idle.set(id, state);
    }
    state.wantedMs = this.now() + state.idleTimeoutMs;
    if (state.wantedMs - state.storedMs >= Math.max(1000, state.idleTimeoutMs / 10)) this.writeIdle(tenantId, id, state);
  }

  /** Moves the TTL deadline: `addSeconds` past the current one (or now), or to `expiresAt`; at most 7 days ahead. */
  extend(tenantId: string, id: string, input: ExtendInput): SandboxRow {
    const row = found(this.deps.store.get(tenantId, id), "sandbox", id, tenantId);
    if (!["pending", "starting", "ready"].includes(row.lifecycleState)) {
      throw new AppError("op.conflict", `sandbox \`${id}\` is ${row.lifecycleState}; only a running sandbox can be extended: create a new one`, {
        detail: { lifecycleState: row.lifecycleState },
      });
    }
    const nowMs = this.now();
    let targetMs: number;
    if ("addSeconds" in input) {
      const base = row.expiresAt === null ? nowMs : Math.max(nowMs, Date.parse(row.expiresAt));
      targetMs = base + input.addSeconds * 1000;
    } else {
      targetMs = Date.parse(input.expiresAt);
      if (Number.isNaN(targetMs)) throw invalidInput("expiresAt is not an ISO 8601 time, e.g. 2030-01-01T00:00:00Z", { field: "expiresAt" });
      if (targetMs <= nowMs) throw invalidInput("expiresAt is in the past: give a later time, or stop the sandbox", { field: "expiresAt" });
    }
    const maxMs = nowMs + MAX_EXTEND_AHEAD_SECONDS * 1000;
    if (targetMs > maxMs) {
      throw invalidInput(`a sandbox can be extended to at most ${MAX_EXTEND_AHEAD_SECONDS} seconds (7 days) from now; ask for less`, {
        field: "addSeconds" in input ? "addSeconds" : "expiresAt",
        limit: MAX_EXTEND_AHEAD_SECONDS,
      });
    }
    const next = this.deps.store.update(tenantId, id, { expiresAt: new Date(targetMs).toISOString() });
    if (!next) throw notFound("sandbox", id, tenantId);
    this.touch(tenantId, id);
    this.scheduler.arm();
    return this.deps.store.get(tenantId, id) ?? next;
  }

  /**
   * Sandbox change hook: the idle clock starts when the sandbox becomes ready
   * (a long pull is not idleness), and a finished sandbox is forgotten.
   */
  onSandboxChange(row: SandboxRow, previous: SandboxState | undefined): void {
    if (TERMINAL_STATES.includes(row.lifecycleState)) {
      this.idle.delete(row.id);
      return;
    }
    // A new record with a deadline: the timer may need to fire sooner.
    if (previous === undefined && (row.expiresAt !== null || row.idleExpiresAt !== null)) this.scheduler.arm();
    if (row.lifecycleState === "ready" && previous !== "ready" && row.idleExpiresAt !== null) {
      this.idle.delete(row.id);
      this.touch(row.tenantId, row.id);
      const s = this.idle.get(row.id);
      if (s) this.writeIdle(row.tenantId, row.id, s);
      this.scheduler.arm();
    }
  }

  private writeIdle(tenantId: string, id: string, state: IdleState): void {
    state.storedMs = state.wantedMs;
    this.deps.store.setIdleDeadline(tenantId, id, new Date(state.wantedMs).toISOString());
  }

  private nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const r of this.deps.store.withDeadlines()) {
      if (this.expiring.has(r.id)) continue;
      for (const at of [r.expiresAt, r.idleExpiresAt]) {
        if (at === null) continue;
        const ms = Date.parse(at);
        if (next === undefined || ms < next) next = ms;
      }
    }
    return next;
  }

  private expireDue(nowMs: number): void {
    for (const r of this.deps.store.withDeadlines()) {
      if (this.expiring.has(r.id)) continue;
      const ttlDue = r.expiresAt !== null && Date.parse(r.expiresAt) <= nowMs;
      const idleDue = !ttlDue && r.idleExpiresAt !== null && Date.parse(r.idleExpiresAt) <= nowMs;
      if (!ttlDue && !idleDue) continue;
      if (idleDue && this.stillInUse(r.tenantId, r.id, nowMs)) continue;
      this.expire(r.tenantId, r.id, ttlDue ? "its TTL ran out" : "it was idle for its idle timeout");
    }
  }

  /** Activity since the stored idle deadline (or an open session) moves it on instead of expiring. */
  private stillInUse(tenantId: string, id: string, nowMs: number): boolean {
    const state = this.idle.get(id) ?? undefined;
    if (this.deps.hasOpenSession(tenantId, id)) {
      this.touch(tenantId, id);
      const s = this.idle.get(id);
      if (s && s.storedMs <= nowMs) this.writeIdle(tenantId, id, s);
      return true;
    }
    if (state && state.wantedMs > nowMs) {
      this.writeIdle(tenantId, id, state);
      return true;
    }
    return false;
  }

  private expire(tenantId: string, id: string, why: string): void {
    this.expiring.add(id);
    const row = this.deps.sandboxes.find(tenantId, id);
    const onExpire = row?.spec.lifetime?.onExpire ?? "stop";
    const message = `expired: ${why}; ${onExpire === "delete" ? "deleting it" : "stopped (delete it, or create a new one)"}`;
    this.deps.log.info("sandbox expired", { tenantId, sandboxId: id, why, onExpire });
    void this.deps.sandboxes
      .expire(tenantId, id, message)
      .then(() => (onExpire === "delete" ? this.deps.sandboxes.delete(tenantId, id) : undefined))
      .then(
        () => this.expiring.delete(id),
        // Left in `expiring`, so a failing stop is not retried in a tight loop; the log names it.
        (err: unknown) => this.deps.log.warn("expiring a sandbox failed", { tenantId, sandboxId: id, err }),
      )
      .finally(() => {
        this.idle.delete(id);
        this.scheduler.arm();
      });
  }
}
