/**
 * Services (contract §6): a tenant-scoped name whose backing sandbox Nimbus
 * launches, supervises and replaces; callers only ever use the name.
 * Definitions are guarded by `generation`; runtime control (start, stop,
 * restart) and every supervisor reaction go through one lock per service,
 * so they never interleave. The supervisor (supervisor.ts) reacts to the
 * backing sandbox; this file owns the record and its transitions.
 */
import { checkUserSpec } from "./user-ids.js";
import type { ServiceDefinition, ServiceView } from "@nimbus/nimbus";
import type { Logger } from "../log.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import type { ServiceRow, ServiceStore } from "../store/service-store.js";
import { AppError, notFound, found } from "./errors.js";
import type { EventBus } from "./events.js";
import { KeyedLock } from "../runtime/keyed-lock.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { ACTIVE_STATES } from "./sandbox-state.js";
import type { Sandboxes } from "./sandboxes.js";
import type { ResolvedService, ServiceResolver } from "./sessions.js";
import { RestartReceipts, type RestartReceipt } from "./service-restart-receipts.js";
import { definitionConditions, DEFINITION_SOURCE } from "./service-conditions.js";
import { assertTransition, lifecycleFields, type ServiceState } from "./service-state.js";

/** The probe's wire shape is the SDK's (the edge schema checks it). */
export type { ReadinessProbe } from "@nimbus/nimbus";

export type ServiceBackendKind = "sandbox" | "builtIn" | "external";

/** A definition's spec: the SDK's wire type, which the store keeps as given. */
import type { ServiceSpec } from "@nimbus/nimbus";
export type { ServiceBackend as ServiceBackendSpec, ServiceSpec } from "@nimbus/nimbus";

export interface ServiceDefinitionInput {
  name: string;
  labels?: Record<string, string>;
  spec: ServiceSpec;
}

/** What the services domain needs of sessions (closing leases on force delete). */
export interface ServiceSessionHooks {
  closeForService(tenantId: string, name: string, reason: string): number;
  countOpenForService(tenantId: string, name: string): number;
}

export interface ServicesDeps {
  store: ServiceStore;
  sandboxes: Sandboxes;
  sessions: ServiceSessionHooks;
  events: EventBus;
  log: Logger;
}

export type ServicePatch = Partial<Pick<ServiceRow, "sandboxId" | "restartCount" | "exitCode" | "message">>;

export const FORCE_DELETE_REASON = "service_force_deleted";
const RUNTIME_STATES: readonly ServiceState[] = ["starting", "running", "restarting", "stopping"];

export function specOf(row: ServiceRow): ServiceSpec {
  return row.spec;
}

/** A sandbox backend's `user` is range-checked when the definition is stored, not only when it starts. */
function checkServiceUser(spec: ServiceSpec): void {
  if (spec.backend.kind === "sandbox") checkUserSpec(spec.backend.sandbox?.process?.user, "spec.backend.sandbox.process.user");
}

export function isDeclared(spec: ServiceSpec): boolean {
  return spec.backend.kind !== "sandbox";
}

export class Services implements ServiceResolver {
  readonly lock = new KeyedLock();
  private readonly receipts = new RestartReceipts();
  /** Probe results of running services: false once the probe fails past its threshold. Not persisted. */
  private readonly health = new Map<string, boolean>();

  constructor(private readonly deps: ServicesDeps) {}

  // ---- definitions ----

  create(tenantId: string, input: ServiceDefinitionInput): ServiceRow {
    checkServiceUser(input.spec);
    const now = new Date().toISOString();
    const row = this.deps.store.insert({
      tenantId,
      name: input.name,
      generation: 1,
      createdAt: now,
      updatedAt: now,
      labels: input.labels ?? {},
      spec: input.spec,
      state: isDeclared(input.spec) ? "declared" : "stopped",
      stateChangedAt: now,
      sandboxId: null,
      restartCount: 0,
      exitCode: null,
      message: null,
    });
    if (!row) {
      throw new AppError(
        "op.already_exists",
        `service \`${input.name}\` already exists for tenant \`${tenantId}\`; update it with its generation, or pick another name`,
        {
          detail: { kind: "service", name: input.name },
        },
      );
    }
    this.publish(row);
    return row;
  }

  /** Replace a stopped service's definition; `generation` must be the current one. */
  update(tenantId: string, input: ServiceDefinitionInput & { generation: number }): Promise<ServiceRow> {
    checkServiceUser(input.spec);
    return this.locked(tenantId, input.name, async () => {
      const row = this.get(tenantId, input.name);
      this.checkGeneration(row, input.generation);
      if (RUNTIME_STATES.includes(row.state)) {
        throw new AppError("op.conflict", `service \`${row.name}\` is ${row.state}: stop the service before updating its definition`, {
          detail: { name: row.name, state: row.state },
        });
      }
      const declared = isDeclared(input.spec);
      const state: ServiceState = declared ? "declared" : row.state === "declared" ? "stopped" : row.state;
      const next = this.deps.store.update(
        tenantId,
        row.name,
        {
          generation: row.generation + 1,
          spec: input.spec,
          ...(input.labels ? { labels: input.labels } : {}),
          ...(state !== row.state ? { state, stateChangedAt: new Date().toISOString() } : {}),
        },
        row.generation,
      );
      if (!next) throw this.stale(row.name, input.generation, this.get(tenantId, row.name).generation);
      this.publish(next);
      return next;
    });
  }

  /**
   * Delete a definition. Open sessions or a running sandbox → 409 unless
   * `force`, which closes the sessions (`service_force_deleted`) and stops
   * and deletes the sandbox.
   */
  delete(tenantId: string, name: string, ifMatchGeneration: number, force: boolean): Promise<void> {
    return this.locked(tenantId, name, async () => {
      const row = this.get(tenantId, name);
      this.checkGeneration(row, ifMatchGeneration);
      const openSessions = this.deps.sessions.countOpenForService(tenantId, name);
      const sandbox = row.sandboxId === null ? undefined : this.deps.sandboxes.find(tenantId, row.sandboxId);
      const sandboxActive = sandbox !== undefined && ACTIVE_STATES.includes(sandbox.lifecycleState);
      const running = sandboxActive || RUNTIME_STATES.includes(row.state);
      if (!force && (openSessions > 0 || running)) {
        const why = [openSessions > 0 ? `${openSessions} open session(s)` : "", running ? `a ${sandbox?.lifecycleState ?? row.state} sandbox` : ""]
          .filter(Boolean)
          .join(" and ");
        throw new AppError("op.conflict", `service \`${name}\` has ${why}: stop the service and close its sessions first, or delete with force=true`, {
          detail: { name, openSessions, state: row.state, sandboxId: row.sandboxId },
        });
      }
      if (openSessions > 0) this.deps.sessions.closeForService(tenantId, name, FORCE_DELETE_REASON);
      // The record goes first, so the supervisor ignores the sandbox's last changes.
      this.deps.store.delete(tenantId, name);
      this.receipts.forget(tenantId, name);
      this.health.delete(key(tenantId, name));
      this.deps.events.publish({ type: "service", action: "deleted", tenantId, key: name, resource: this.view(row) });
      if (sandbox) await this.deps.sandboxes.delete(tenantId, sandbox.id);
    });
  }

  async deleteAllOfTenant(tenantId: string): Promise<void> {
    for (const name of this.deps.store.namesOfTenant(tenantId)) {
      const row = this.deps.store.get(tenantId, name);
      if (row)
        await this.delete(tenantId, name, row.generation, true).catch((err) =>
          this.deps.log.warn("deleting a service of a deleted tenant failed", { tenantId, name, err }),
        );
    }
  }

  get(tenantId: string, name: string): ServiceRow {
    return found(this.deps.store.get(tenantId, name), "service", name, tenantId);
  }

  find(tenantId: string, name: string): ServiceRow | undefined {
    return this.deps.store.get(tenantId, name);
  }

  list(tenantId: string, q: { limit: number; pageToken?: string }) {
    return this.deps.store.list(tenantId, q);
  }

  resourceVersion(): string {
    return this.deps.store.resourceVersion();
  }

  // ---- runtime control ----

  /** Launch a sandbox under the name; idempotent while it is starting or running. */
  start(tenantId: string, name: string): Promise<ServiceRow> {
    return this.locked(tenantId, name, async () => {
      const row = this.requireRunnable(this.get(tenantId, name));
      if (["starting", "running", "restarting"].includes(row.state)) return row;
      return this.launch(row, { restartCount: 0 });
    });
  }

  /** Stop the backing sandbox; the definition (and the stopped sandbox's log) stays. Idempotent. */
  stop(tenantId: string, name: string, gracePeriodMs?: number): Promise<ServiceRow> {
    return this.locked(tenantId, name, () => this.stopLocked(this.get(tenantId, name), gracePeriodMs));
  }

  /** Replace the backing sandbox with a fresh one (stopping the current one first). */
  restart(tenantId: string, name: string, gracePeriodMs?: number, sourceGeneration?: number): Promise<ServiceRow> {
    return this.locked(tenantId, name, async () => {
      const current = this.get(tenantId, name);
      if (sourceGeneration !== undefined) this.checkGeneration(current, sourceGeneration);
      const row = await this.stopLocked(this.requireRunnable(current), gracePeriodMs);
      return this.launch(row, { restartCount: row.restartCount });
    });
  }

  /**
   * Upstream's restart request: 412 when `sourceGeneration` is not the
   * current one; a repeated `requestId` gets the first answer's receipt.
   */
  requestRestart(tenantId: string, name: string, input: { sourceGeneration?: number; requestId?: string; gracePeriodMs?: number }): Promise<RestartReceipt> {
    this.get(tenantId, name);
    return this.receipts.answer(tenantId, name, input.requestId, async (restartId) => {
      const row = await this.restart(tenantId, name, input.gracePeriodMs, input.sourceGeneration);
      return {
        kind: "ServiceRestart",
        restartId,
        ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
        tenantId,
        name,
        sourceGeneration: row.generation,
        sandboxId: row.sandboxId,
        acceptedAt: new Date().toISOString(),
      };
    });
  }

  /** ServiceResolver for sessions: the current sandbox, whatever its state (sessions check readiness). */
  resolve(tenantId: string, name: string): ResolvedService | undefined {
    const row = this.deps.store.get(tenantId, name);
    if (!row) return undefined;
    // The service's backend kind (upstream's meaning), not the sandbox runtime's name.
    return { sandboxId: row.sandboxId ?? "", generation: row.generation, backend: specOf(row).backend.kind as ServiceBackendKind };
  }

  // ---- shared with the supervisor ----

  /** Run `work` holding the service's lock. */
  locked<T>(tenantId: string, name: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(key(tenantId, name), work);
  }

  transition(row: ServiceRow, to: ServiceState, patch: ServicePatch & { message?: string | null } = {}): ServiceRow {
    assertTransition(row.name, row.state, to);
    const next = this.deps.store.update(row.tenantId, row.name, { state: to, stateChangedAt: new Date().toISOString(), ...patch });
    if (!next) throw notFound("service", row.name, row.tenantId);
    if (to !== "running") this.health.delete(key(row.tenantId, row.name));
    this.publish(next);
    return next;
  }

  /** Create a fresh backing sandbox (deleting the finished previous one) and enter `starting`. */
  async launch(row: ServiceRow, counts: { restartCount: number }): Promise<ServiceRow> {
    const spec = specOf(row);
    if (spec.backend.kind !== "sandbox") throw this.declaredConflict(row);
    if (row.sandboxId !== null) {
      const previous = this.deps.sandboxes.find(row.tenantId, row.sandboxId);
      if (previous)
        await this.deps.sandboxes
          .delete(row.tenantId, previous.id)
          .catch((err) => this.deps.log.warn("removing a replaced service sandbox failed", { sandboxId: previous.id, err }));
    }
    const sandboxSpec: SandboxSpec = { ...spec.backend.sandbox, owner: { kind: "service", serviceName: row.name } };
    let sandbox: SandboxRow;
    try {
      sandbox = await this.deps.sandboxes.create(row.tenantId, { profile: "worker", spec: sandboxSpec }, { serviceName: row.name });
    } catch (err) {
      // The old sandbox is gone either way; a start that could not launch leaves the service as it was.
      if (row.sandboxId !== null) this.deps.store.update(row.tenantId, row.name, { sandboxId: null });
      throw err;
    }
    const message =
      counts.restartCount > row.restartCount ? `restart ${counts.restartCount}: launching sandbox ${sandbox.id}` : `launching sandbox ${sandbox.id}`;
    return this.transition(row, "starting", { sandboxId: sandbox.id, restartCount: counts.restartCount, exitCode: null, message });
  }

  /** Record a probe result of a running service; publishes when it changes. */
  setHealth(row: ServiceRow, healthy: boolean): void {
    const k = key(row.tenantId, row.name);
    if (this.health.get(k) === healthy) return;
    this.health.set(k, healthy);
    const current = this.deps.store.get(row.tenantId, row.name);
    if (current) this.publish(current);
  }

  /** Publish the current view again (e.g. the sandbox's endpoints changed). */
  republish(tenantId: string, name: string): void {
    const row = this.deps.store.get(tenantId, name);
    if (row) this.publish(row);
  }

  /** The runtime view (contract §6, plus `generation`, `exitCode`, `message` as ext). */
  view(row: ServiceRow): ServiceView {
    const state = row.state;
    const spec = specOf(row);
    const sandbox = row.sandboxId === null ? undefined : this.deps.sandboxes.find(row.tenantId, row.sandboxId);
    const fields = lifecycleFields(state, this.health.get(key(row.tenantId, row.name)));
    const view: ServiceView = {
      tenantId: row.tenantId,
      name: row.name,
      generation: row.generation,
      ...(row.sandboxId !== null ? { sandboxId: row.sandboxId } : {}),
      backend: spec.backend.kind === "sandbox" ? spec.backend.sandbox.backend : spec.backend.kind,
      state,
      ...fields,
      endpoints: sandbox?.lifecycleState === "ready" ? sandbox.endpoints : [],
      restartCount: row.restartCount,
    };
    if (row.exitCode !== null) view.exitCode = row.exitCode;
    if (row.message !== null) view.message = row.message;
    return view;
  }

  /** The definition as create/update answer it: launch inputs only as value counts. */
  definition(row: ServiceRow): ServiceDefinition {
    const spec = specOf(row);
    let backend: ServiceDefinition["spec"]["backend"];
    if (spec.backend.kind === "sandbox") {
      const { process: p, ...s } = spec.backend.sandbox;
      const count = (v: unknown[] | undefined) => (v === undefined ? undefined : { redacted: true as const, valueCount: v.length });
      // JSON drops the undefined fields, as the stored definition would.
      const process = p && {
        argv: count(p.argv ?? p.args),
        entrypoint: count(p.entrypoint),
        command: count(p.command),
        environment: count(p.env),
        cwd: p.cwd,
        user: p.user,
        terminal: p.terminal,
      };
      backend = { kind: "sandbox", sandbox: { ...s, ...(process ? { process: JSON.parse(JSON.stringify(process)) } : {}) } };
    } else {
      backend = spec.backend;
    }
    return {
      metadata: {
        tenantId: row.tenantId,
        name: row.name,
        generation: row.generation,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        labels: row.labels,
        source: DEFINITION_SOURCE,
      },
      spec: { ...spec, backend },
      status: { conditions: definitionConditions(row) },
    };
  }

  // ---- internals ----

  private async stopLocked(row: ServiceRow, gracePeriodMs?: number): Promise<ServiceRow> {
    const state = row.state;
    if (state === "declared" || state === "stopped" || state === "failed") return row;
    if (state !== "stopping") this.transition(row, "stopping", { message: "stopping the backing sandbox" });
    let exitCode: number | null = row.exitCode;
    if (row.sandboxId !== null && this.deps.sandboxes.find(row.tenantId, row.sandboxId)) {
      const sandbox = await this.deps.sandboxes.stop(row.tenantId, row.sandboxId, gracePeriodMs);
      exitCode = sandbox.exitCode;
    }
    return this.transition(this.get(row.tenantId, row.name), "stopped", { exitCode, message: "stopped on request" });
  }

  private requireRunnable(row: ServiceRow): ServiceRow {
    if (isDeclared(specOf(row))) throw this.declaredConflict(row);
    return row;
  }

  private declaredConflict(row: ServiceRow): AppError {
    return new AppError("op.conflict", `service \`${row.name}\` has a ${specOf(row).backend.kind} backend: Nimbus records it but does not run it`, {
      detail: { name: row.name, state: row.state },
    });
  }

  private checkGeneration(row: ServiceRow, expected: number): void {
    if (row.generation !== expected) throw this.stale(row.name, expected, row.generation);
  }

  private stale(name: string, expected: number, current: number): AppError {
    return new AppError(
      "op.precondition_failed",
      `service \`${name}\` is at generation ${current}, not ${expected}: read it again and retry with the current generation`,
      {
        detail: { name, expectedGeneration: expected, currentGeneration: current },
      },
    );
  }

  private publish(row: ServiceRow): void {
    this.deps.events.publish({ type: "service", action: "updated", tenantId: row.tenantId, key: row.name, resource: this.view(row) });
  }
}

function key(tenantId: string, name: string): string {
  return `${tenantId}\u0000${name}`;
}
