/**
 * Sessions: TTL leases on one ready target (contract §5). A lease ends in
 * one of three ways, each recorded with a reason, published on the event
 * bus and told to every `onClosed` listener (the channels): the client
 * closes it, its deadline passes (the LeaseScheduler, whether or not anyone
 * reads it), or its target sandbox leaves `ready`. Ending a lease never
 * touches the target.
 */
import type { SandboxActivity } from "./sandbox-activity.js";
import type { Logger } from "../log.js";
import type { ServiceBackendKind, Session, SessionChannel } from "@nimbus/nimbus";
import type { SandboxRow } from "../store/sandbox-store.js";
import type { SessionListQuery, SessionRow, SessionStore, SessionTargetRecord, TargetSnapshotRecord } from "../store/session-store.js";
import { capReached } from "./tenant-caps.js";
import { AppError, invalidInput, notFound, found } from "./errors.js";
import type { EventBus } from "./events.js";
import { ulid } from "./ids.js";
import { resourceMetadata } from "./resource-metadata.js";
import { LeaseScheduler } from "./lease-scheduler.js";
import { assertTransition, CLOSE_REASONS, conditionReason } from "./session-state.js";

export const DEFAULT_TTL_MS = 900_000;
export const MAX_TTL_MS = 3_600_000;
export const MAX_CHANNELS = 8;
export const SANDBOX_CHANNELS: readonly SessionChannel[] = ["stdio", "files", "exec"];

const isChannel = (c: string): c is SessionChannel => SANDBOX_CHANNELS.some((known) => known === c);

/** What a service target resolves to right now (implemented by the services domain). */
export interface ResolvedService {
  sandboxId: string;
  /** The service definition's generation. */
  generation: number;
  backend: ServiceBackendKind;
}

export interface ServiceResolver {
  resolve(tenantId: string, name: string): ResolvedService | undefined;
}

/** Until services exist, no service name resolves. */
export const NO_SERVICES: ServiceResolver = { resolve: () => undefined };

export interface SandboxLookup {
  find(tenantId: string, id: string): SandboxRow | undefined;
}

/** Told once when a lease stops being open, for whatever reason. */
export interface SessionClosedEvent {
  tenantId: string;
  sessionId: string;
  lifecycleState: "closed" | "expired";
  reason: string;
}
export type SessionClosedListener = (event: SessionClosedEvent) => void;

export interface SessionsDeps {
  store: SessionStore;
  sandboxes: SandboxLookup;
  services?: ServiceResolver;
  events: EventBus;
  log: Logger;
  now?: () => number;
  /** Open sessions per tenant before open answers 429 (limit maxSessions). @default unlimited */
  maxOpenOf?: (tenantId: string) => number;
  /** Told when a session opens or ends on a sandbox: its idle clock restarts (sandbox-lifetimes.ts). */
  activity?: SandboxActivity;
}

/** The open body after edge validation; the domain still checks every rule. */
export interface OpenSessionInput {
  target: { sandbox?: { id: string }; service?: { name: string } };
  channels: string[];
  requestedTtlMs?: number;
}

export class Sessions {
  private readonly closedListeners: SessionClosedListener[] = [];
  private readonly scheduler: LeaseScheduler;
  private readonly now: () => number;
  private services: ServiceResolver;

  constructor(private readonly deps: SessionsDeps) {
    this.now = deps.now ?? Date.now;
    this.services = deps.services ?? NO_SERVICES;
    this.scheduler = new LeaseScheduler({
      nextDeadlineMs: () => {
        const at = deps.store.earliestOpenDeadline();
        return at === undefined ? undefined : Date.parse(at);
      },
      expireDue: (nowMs) => this.expireDue(nowMs),
      log: deps.log,
      now: this.now,
    });
  }

  /** Channels register here to be told `{sessionId, reason}` when a lease ends. Returns an unsubscribe. */
  onClosed(listener: SessionClosedListener): () => void {
    this.closedListeners.push(listener);
    return () => {
      const i = this.closedListeners.indexOf(listener);
      if (i !== -1) this.closedListeners.splice(i, 1);
    };
  }

  /** The services domain plugs its resolver in once it exists. */
  setServiceResolver(resolver: ServiceResolver): void {
    this.services = resolver;
  }

  /** Boot: expire what lapsed while the server was down, close leases on targets gone meanwhile, then keep time. */
  start(): void {
    this.scheduler.start();
    for (const row of this.deps.store.allOpen()) {
      const sandbox = this.deps.sandboxes.find(row.tenantId, row.targetSandboxId);
      if (!sandbox) this.closeForSandbox(row.tenantId, row.targetSandboxId, CLOSE_REASONS.targetDeleted);
      else if (sandbox.lifecycleState !== "ready") this.closeForSandbox(row.tenantId, row.targetSandboxId, CLOSE_REASONS.targetStopped);
    }
  }

  /** Stop the deadline timer (records stay as they are; the next boot catches up). */
  stop(): void {
    this.scheduler.stop();
  }

  open(tenantId: string, input: OpenSessionInput): SessionRow {
    const target = checkTarget(input.target);
    checkChannels(input.channels);
    const ttlMs = clampTtl(input.requestedTtlMs);
    const { snapshot, sandboxId } = this.resolveTarget(tenantId, target);
    const maxOpen = this.deps.maxOpenOf?.(tenantId);
    // Checked and inserted in one synchronous stretch, so concurrent opens cannot overrun it.
    if (maxOpen !== undefined && this.deps.store.countInState(tenantId, "open") >= maxOpen) throw capReached(tenantId, "maxSessions", maxOpen);
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const expiresAt = new Date(nowMs + ttlMs).toISOString();
    const row = this.deps.store.insert({
      tenantId,
      id: `session-${ulid(nowMs)}`,
      generation: 1,
      createdAt: now,
      updatedAt: now,
      target,
      targetSnapshot: snapshot,
      targetSandboxId: sandboxId,
      serviceName: "service" in target ? target.service.name : null,
      channels: [...input.channels],
      lifecycleState: "open",
      expiresAt,
      stateChangedAt: now,
      closedAt: null,
      closeReason: null,
    });
    this.publish(row);
    this.deps.activity?.touch(tenantId, sandboxId);
    this.scheduler.arm();
    return row;
  }

  get(tenantId: string, id: string): SessionRow {
    return found(this.deps.store.get(tenantId, id), "session", id, tenantId);
  }

  find(tenantId: string, id: string): SessionRow | undefined {
    return this.deps.store.get(tenantId, id);
  }

  list(tenantId: string, q: SessionListQuery) {
    return this.deps.store.list(tenantId, q);
  }

  resourceVersion(): string {
    return this.deps.store.resourceVersion();
  }

  /** Close a lease; an already closed or expired one comes back unchanged. Never stops the target. */
  close(tenantId: string, id: string, reason?: string): SessionRow {
    const row = this.get(tenantId, id);
    if (row.lifecycleState !== "open") return row;
    return this.end(row, "closed", reason ?? CLOSE_REASONS.client) ?? this.get(tenantId, id);
  }

  /** Move the deadline to now + min(ttl, 1 h); only an open lease can be renewed. */
  renew(tenantId: string, id: string, requestedTtlMs: number): SessionRow {
    const row = this.get(tenantId, id);
    if (row.lifecycleState !== "open") {
      throw new AppError("op.conflict", `session \`${id}\` is ${row.lifecycleState} and cannot be renewed; open a new session`, {
        detail: { id, lifecycleState: row.lifecycleState },
      });
    }
    const expiresAt = new Date(this.now() + clampTtl(requestedTtlMs)).toISOString();
    const next = this.deps.store.update(tenantId, id, "open", { expiresAt, generation: row.generation + 1 });
    if (!next) return this.renew(tenantId, id, requestedTtlMs); // it ended meanwhile: answer with the conflict
    this.publish(next);
    this.scheduler.arm();
    return next;
  }

  /** Sandbox change hook: a target that leaves `ready` ends the leases riding on it. */
  onSandboxChange(sandbox: SandboxRow): void {
    const state = sandbox.lifecycleState;
    if (state === "stopping" || state === "stopped" || state === "failed") {
      this.closeForSandbox(sandbox.tenantId, sandbox.id, CLOSE_REASONS.targetStopped);
    }
  }

  /** End every open lease on a sandbox (expired if its deadline already passed, else closed with `reason`). */
  closeForSandbox(tenantId: string, sandboxId: string, reason: string): number {
    return this.endAll(this.deps.store.onSandbox(tenantId, sandboxId, "open"), reason);
  }

  /** End every open lease on a service (e.g. `service_force_deleted`). */
  closeForService(tenantId: string, serviceName: string, reason: string): number {
    return this.endAll(this.deps.store.onService(tenantId, serviceName, "open"), reason);
  }

  /** Whether any session on the sandbox is open: while one is, the sandbox is in use (idle timeout). */
  hasOpen(tenantId: string, sandboxId: string): boolean {
    return this.deps.store.onSandbox(tenantId, sandboxId, "open").length > 0;
  }

  countOpenForService(tenantId: string, serviceName: string): number {
    return this.deps.store.onService(tenantId, serviceName, "open").length;
  }

  /** Tenant deletion: end its open leases (channels are told), then remove every record. */
  async deleteAllOfTenant(tenantId: string): Promise<void> {
    this.endAll(this.deps.store.inStateOfTenant(tenantId, "open"), CLOSE_REASONS.tenantDeleted);
    for (const id of this.deps.store.idsOfTenant(tenantId)) {
      const last = this.deps.store.get(tenantId, id);
      if (this.deps.store.delete(tenantId, id) && last) {
        this.deps.events.publish({ type: "session", action: "deleted", tenantId, key: id, resource: sessionView(last) });
      }
    }
  }

  private expireDue(nowMs: number): void {
    for (const row of this.deps.store.openDueBy(new Date(nowMs).toISOString())) this.end(row, "expired", CLOSE_REASONS.expired);
  }

  private endAll(rows: SessionRow[], reason: string): number {
    const nowIso = new Date(this.now()).toISOString();
    let ended = 0;
    for (const row of rows) {
      // A lease whose deadline passed (e.g. while the server was down) expired; it was not closed.
      const done = row.expiresAt <= nowIso ? this.end(row, "expired", CLOSE_REASONS.expired) : this.end(row, "closed", reason);
      if (done) ended++;
    }
    return ended;
  }

  /** The one place a lease stops being open. Undefined when another writer ended it first. */
  private end(row: SessionRow, to: "closed" | "expired", reason: string): SessionRow | undefined {
    assertTransition(row.id, row.lifecycleState, to);
    const at = new Date(this.now()).toISOString();
    const next = this.deps.store.update(row.tenantId, row.id, "open", { lifecycleState: to, stateChangedAt: at, closedAt: at, closeReason: reason });
    if (!next) return undefined;
    this.deps.log.info(to === "expired" ? "session expired" : "session closed", { tenantId: row.tenantId, sessionId: row.id, reason });
    this.publish(next);
    // The idle timeout counts from the end of the last session, not from its start.
    this.deps.activity?.touch(row.tenantId, row.targetSandboxId);
    const event: SessionClosedEvent = { tenantId: row.tenantId, sessionId: row.id, lifecycleState: to, reason };
    for (const l of [...this.closedListeners]) {
      try {
        l(event);
      } catch (err) {
        this.deps.log.error("session closed listener failed", { sessionId: row.id, err });
      }
    }
    this.scheduler.arm();
    return next;
  }

  private resolveTarget(tenantId: string, target: SessionTargetRecord): { snapshot: TargetSnapshotRecord; sandboxId: string } {
    if ("sandbox" in target) {
      const sandbox = this.requireReady(tenantId, target.sandbox.id);
      const backend = String((sandbox.spec as { backend?: unknown }).backend ?? "container");
      return { sandboxId: sandbox.id, snapshot: { sandbox: { id: sandbox.id, generation: sandbox.generation, profile: sandbox.profile, backend } } };
    }
    const { name } = target.service;
    const service = this.services.resolve(tenantId, name);
    if (!service) throw notFound("service", name, tenantId);
    this.requireReady(tenantId, service.sandboxId, name);
    return {
      sandboxId: service.sandboxId,
      snapshot: { service: { name, generation: service.generation, backend: service.backend, sandboxId: service.sandboxId } },
    };
  }

  private requireReady(tenantId: string, sandboxId: string, serviceName?: string): SandboxRow {
    const sandbox = this.deps.sandboxes.find(tenantId, sandboxId);
    if (!sandbox && serviceName === undefined) throw notFound("sandbox", sandboxId, tenantId);
    if (!sandbox || sandbox.lifecycleState !== "ready") {
      const state = sandbox?.lifecycleState ?? "missing";
      throw new AppError("op.conflict", "session open requires a ready sandbox target", {
        detail: { sandboxId, lifecycleState: state, ...(serviceName === undefined ? {} : { service: serviceName }) },
      });
    }
    return sandbox;
  }

  private publish(row: SessionRow): void {
    this.deps.events.publish({ type: "session", action: "updated", tenantId: row.tenantId, key: row.id, resource: sessionView(row) });
  }
}

function checkTarget(target: OpenSessionInput["target"]): SessionTargetRecord {
  const kinds = (["sandbox", "service"] as const).filter((k) => target[k] !== undefined);
  if (kinds.length !== 1) {
    throw invalidInput(
      kinds.length === 0
        ? '`target` must name exactly one of `sandbox` ({"sandbox":{"id"}}) or `service` ({"service":{"name"}})'
        : "`target` names both `sandbox` and `service`; give exactly one",
      { field: "target" },
    );
  }
  return target.sandbox !== undefined ? { sandbox: { id: target.sandbox.id } } : { service: { name: target.service!.name } };
}

function checkChannels(channels: string[]): asserts channels is SessionChannel[] {
  if (channels.length < 1 || channels.length > MAX_CHANNELS) {
    throw invalidInput(`\`channels\` must list 1 to ${MAX_CHANNELS} channels, not ${channels.length}`, { field: "channels" });
  }
  const seen = new Set<string>();
  channels.forEach((c, i) => {
    if (!isChannel(c)) {
      throw invalidInput(`channel \`${c.slice(0, 64)}\` is not available on this target; use ${SANDBOX_CHANNELS.join(", ")}`, {
        field: `channels.${i}`,
        channel: c.slice(0, 64),
      });
    }
    if (seen.has(c)) throw invalidInput(`channel \`${c}\` is listed twice in \`channels\`; list each channel once`, { field: `channels.${i}`, channel: c });
    seen.add(c);
  });
}

/** Default 15 min; 0 or less is refused; more than an hour is clamped to an hour. */
export function clampTtl(requestedTtlMs: number | undefined): number {
  if (requestedTtlMs === undefined) return DEFAULT_TTL_MS;
  if (!Number.isFinite(requestedTtlMs) || requestedTtlMs <= 0) {
    throw invalidInput(`\`requestedTtlMs\` must be a positive number of milliseconds (at most ${MAX_TTL_MS}); got ${requestedTtlMs}`, {
      field: "requestedTtlMs",
    });
  }
  return Math.min(Math.trunc(requestedTtlMs), MAX_TTL_MS);
}

const CONDITION_MESSAGE: Record<ReturnType<typeof conditionReason>, (row: SessionRow) => string> = {
  LeaseActive: (r) => `the lease is open until ${r.expiresAt}; renew it to keep it longer`,
  ClientClosed: (r) => `the session was closed (${r.closeReason ?? CLOSE_REASONS.client}); open a new session to reconnect`,
  LeaseExpired: (r) => `the lease expired at ${r.expiresAt}; open a new session to reconnect`,
  TargetStopped: (r) => `the target sandbox \`${r.targetSandboxId}\` is no longer running (${r.closeReason}); start it and open a new session`,
};

/** The wire resource of a session (contract §5). */
export function sessionView(row: SessionRow): Session {
  const state = row.lifecycleState;
  const reason = conditionReason(state, row.closeReason);
  const status: Session["status"] = {
    lifecycleState: state,
    expiresAt: row.expiresAt,
    ...(row.closedAt !== null ? { closedAt: row.closedAt } : {}),
    ...(row.closeReason !== null ? { closeReason: row.closeReason } : {}),
    conditions: [
      {
        type: "Open",
        status: state === "open" ? "True" : "False",
        reason,
        message: CONDITION_MESSAGE[reason](row),
        observedGeneration: row.generation,
        lastTransitionTime: row.stateChangedAt,
      },
    ],
  };
  return {
    metadata: resourceMetadata(row),
    spec: { target: row.target, targetSnapshot: row.targetSnapshot, channels: row.channels, expiresAt: row.expiresAt },
    status,
  };
}
