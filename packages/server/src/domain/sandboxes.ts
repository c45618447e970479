/**
 * Sandboxes: create answers at once with `pending` (the image must be pulled)
 * or `starting` (it is already here: no pull, and one store write fewer on the
 * path to ready); pulling, creating and starting continue in the background and always end in `ready` or
 * `failed` with a message — never a stuck state. The runtime's monitor, not
 * this process, holds each container, so the reconciler (reconciler.ts) can
 * re-adopt them after a restart.
 */
import { tightenFileSync } from "../host/private-fs.js";
import { checkUserSpec } from "./user-ids.js";
import { setMaxListeners } from "node:events";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.js";
import type { SandboxListQuery, SandboxRow, SandboxStore } from "../store/sandbox-store.js";
import type { ImageRecord, PullOptions } from "../images/index.js";
import type { ExitInfo, RuntimeBackend } from "../runtime/backend.js";
import { readAllRecords, readRecordsFrom, type LogRecord } from "../runtime/index.js";

export type { LogRecord };
import { AppError, invalidInput, notFound, found } from "./errors.js";
import type { CheckedEgress, SandboxEgress } from "./sandbox-egress.js";
import type { EgressRule } from "./egress-policy.js";
import type { EventBus } from "./events.js";
import { slugId } from "./ids.js";
import { KeyedLock } from "../runtime/keyed-lock.js";
import { RuntimeError } from "../runtime/errors.js";
import { resolveProcess } from "./process-resolve.js";
import { checkDiskLimit } from "./disk-limit.js";
import { clampResources, TENANT_QUOTA, type SandboxProfile, type SandboxSpec } from "./sandbox-spec.js";
import { ACTIVE_STATES, assertTransition, TERMINAL_STATES, type SandboxReason, type SandboxState } from "./sandbox-state.js";
import { sandboxView } from "./sandbox-view.js";
import { translateImageError, translateRuntimeError } from "./translate-errors.js";
import { INSTANCE_ANNOTATION, reconcileSandboxes, type ReconcileReport } from "./reconciler.js";
import type { TenantLimitsService } from "./tenant-limits.js";
import { capReached } from "./tenant-caps.js";
import type { DiskGuard } from "./disk-guard.js";
import { initialDeadlines, resolveLifetime, type LifetimeSpec } from "./sandbox-lifetimes.js";

/** The tenant's view of the images (tenant-images.ts): a sandbox uses only what its tenant may. */
export interface ImagePort {
  pull(tenantId: string, ref: string, opts?: PullOptions): Promise<ImageRecord>;
  /** The image of this tenant a pull would return without fetching, if any. */
  present(tenantId: string, ref: string): ImageRecord | undefined;
}

export interface SandboxesDeps {
  store: SandboxStore;
  images: ImagePort;
  runtime: RuntimeBackend;
  events: EventBus;
  log: Logger;
  /** `<data-dir>/sandboxes`: main-process logs kept after the container is gone. */
  retainedDir: string;
  /** Active sandboxes per tenant before create answers 429. @default 64 */
  maxActivePerTenant?: number;
  /** Per-tenant ceilings (they override maxActivePerTenant) and the runtime group each tenant's sandboxes share. */
  tenantLimits?: Pick<TenantLimitsService, "of" | "group">;
  /** Refuses creates (507) while the disk is nearly full. */
  diskGuard?: Pick<DiskGuard, "check">;
  /** This data dir's instance id, stamped on every container so the boot reconciler only removes its own orphans. */
  instanceId?: string;
  /** Egress rules and their data path (sandbox-egress.ts); without it, specs with rules are refused. */
  egress?: Pick<SandboxEgress, "check" | "env" | "register" | "unregister" | "forget" | "update" | "compile" | "has">;
  /** The operator's default lifetime for a tenant's new sandboxes (sandbox-lifetimes.ts). */
  lifetimeDefault?: (tenantId: string) => LifetimeSpec | undefined;
}

export interface CreateSandboxInput {
  profile: SandboxProfile;
  spec: SandboxSpec;
  labels?: Record<string, string>;
}

export type SandboxChangeListener = (row: SandboxRow, previousState: SandboxState | undefined) => void;

export const DEFAULT_STOP_GRACE_MS = 10_000;

export class Sandboxes {
  private readonly lock = new KeyedLock();
  private readonly launches = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly exits = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly listeners: SandboxChangeListener[] = [];

  constructor(private readonly deps: SandboxesDeps) {
    // Every running sandbox's exit wait listens on this one signal.
    setMaxListeners(0, this.shutdown.signal);
  }

  /** Called for every state change (sessions close on stop, services supervise). */
  onChange(listener: SandboxChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Records the sandbox and starts its launch; resolves once the record is on
   * disk. Validation and the quota are checked synchronously, before anything
   * is written, so concurrent creates cannot overrun the quota.
   */
  async create(tenantId: string, input: CreateSandboxInput, owner: { serviceName?: string } = {}): Promise<SandboxRow> {
    const { spec } = input;
    if (spec.tenantId !== undefined && spec.tenantId !== tenantId) {
      throw new AppError("op.invalid_input", `spec.tenantId \`${spec.tenantId}\` does not match the route tenant \`${tenantId}\``, {
        detail: { field: "spec.tenantId" },
      });
    }
    checkUserSpec(spec.process?.user, "spec.process.user");
    checkDiskLimit(spec.resources?.diskLimitBytes, this.deps.runtime.diskLimits);
    this.checkEgress(tenantId, spec);
    const limit = this.deps.tenantLimits?.of(tenantId).maxSandboxes ?? this.deps.maxActivePerTenant ?? TENANT_QUOTA.activeSandboxes;
    if (this.deps.store.countInStates(tenantId, ACTIVE_STATES) >= limit) {
      throw new AppError(
        "rate.resource_exhausted",
        `tenant \`${tenantId}\` already has ${limit} active sandboxes (limit maxSandboxes); stop or delete one first`,
        {
          detail: { limit, resource: "activeSandboxes", limitName: "maxSandboxes" },
        },
      );
    }
    this.deps.diskGuard?.check("create a sandbox");
    const now = new Date().toISOString();
    const image = this.deps.images.present(tenantId, spec.root.source.reference);
    // A sandbox whose image is not here pulls it while `pending`; sandboxes of one reference share one pull.
    const maxPulls = this.deps.tenantLimits?.of(tenantId).maxPulls;
    if (!image && maxPulls !== undefined) {
      const pulling = this.deps.store.pullingReferences(tenantId);
      if (!pulling.includes(spec.root.source.reference) && pulling.length >= maxPulls) throw capReached(tenantId, "maxPulls", maxPulls);
    }
    const displayName = spec.owner.kind === "standalone" ? spec.owner.displayName : (owner.serviceName ?? spec.owner.serviceName);
    // Without the image the sandbox waits in `pending` while it is pulled.
    const firstState: SandboxState = image ? "starting" : "pending";
    // The tenant default is for standalone sandboxes; a service's sandboxes live as long as the service.
    const lifetime = resolveLifetime(spec.lifetime, spec.owner.kind === "standalone" ? this.deps.lifetimeDefault?.(tenantId) : undefined);
    const fields = {
      tenantId,
      id: slugId(displayName, "sandbox"),
      generation: 1,
      createdAt: now,
      updatedAt: now,
      labels: input.labels ?? {},
      profile: input.profile,
      // The lifetime in force is stored with the spec, so a later change of the tenant default leaves it alone.
      spec: { ...spec, tenantId, ...(lifetime ? { lifetime } : {}) },
      serviceName: owner.serviceName ?? null,
      lifecycleState: firstState,
      stateChangedAt: now,
      reason: null,
      message: image ? "creating the container" : "pulling the image",
      exitCode: null,
      phases: image ? { pullMs: 0 } : {},
      imageDigest: image?.digest ?? null,
      endpoints: [],
      ...initialDeadlines(lifetime, Date.parse(now)),
    };
    // The launch starts first: its synchronous part spawns conmon and queues the
    // overlay mount. The record exists before the launch's first await returns, so
    // it never sees a missing row; if the insert fails, the launch is undone.
    this.startLaunch(fields, image);
    let inserted: ReturnType<SandboxStore["insert"]>;
    try {
      inserted = this.deps.store.insert(fields);
    } catch (err) {
      this.abandonLaunch(fields.id);
      throw err;
    }
    // Published at once, so this event always precedes the launch's own.
    this.publish(inserted.row, undefined);
    // The caller hears of it only once it is on disk (the fsync is shared with concurrent creates).
    await inserted.durable.catch((err: unknown) => {
      this.deps.log.error("the sandbox record could not be synced to disk", { tenantId, sandboxId: fields.id, err });
      throw err;
    });
    return inserted.row;
  }

  /**
   * Replaces a running sandbox's egress rules (`PATCH …/network`): checked as
   * at create, stored at a new generation when `resourceVersion` is still the
   * current one (412 otherwise), applied to new connections at once, and open
   * connections the new rules refuse are closed. Only a sandbox created with
   * rules has the link this needs (409 otherwise); secrets are fixed at create.
   */
  async updateNetwork(tenantId: string, id: string, input: { egress: EgressRule[]; resourceVersion: string }): Promise<{ row: SandboxRow; closed: number }> {
    return this.lock.run(id, async () => {
      const row = this.get(tenantId, id);
      if (row.resourceVersion !== input.resourceVersion) {
        throw new AppError(
          "op.precondition_failed",
          `sandbox \`${id}\` is at resourceVersion ${row.resourceVersion}, not ${input.resourceVersion}: read it again and retry`,
          {
            detail: { resourceVersion: row.resourceVersion },
          },
        );
      }
      const spec = row.spec;
      // The link, not the current rules, decides: a sandbox PATCHed to no rules keeps its link and may get rules again.
      if (!this.deps.egress || !this.deps.egress.has(id)) {
        throw new AppError(
          "op.conflict",
          `sandbox \`${id}\` has no egress link (it was created without rules, or is not running): create a sandbox with spec.network.egress instead`,
        );
      }
      const rules = this.deps.egress.compile(tenantId, input.egress);
      const next = this.deps.store.replaceSpec(
        tenantId,
        id,
        { ...row.spec, network: { ...spec.network, egress: input.egress } },
        row.generation + 1,
        input.resourceVersion,
      );
      if (!next) throw new AppError("op.precondition_failed", `sandbox \`${id}\` changed meanwhile: read it again and retry`);
      const closed = await this.deps.egress.update(tenantId, id, rules);
      this.publish(next, next.lifecycleState);
      return { row: next, closed };
    });
  }

  /**
   * After a server restart: running sandboxes that have egress rules get their
   * data path and policy back (their links survived; the policy was in memory).
   * One whose link is gone keeps loopback only, and the log says so.
   */
  async resumeEgress(rows: Array<Pick<SandboxRow, "tenantId" | "id" | "spec" | "generation">>): Promise<void> {
    // Rules PATCHed to none (a later generation) still mean a link: resumed with no rules, so a later PATCH works.
    const hasLink = (r: Pick<SandboxRow, "spec" | "generation">) => {
      const egress = r.spec.network?.egress;
      return Array.isArray(egress) && (egress.length > 0 || r.generation > 1);
    };
    const withRules = rows.filter(hasLink);
    if (withRules.length === 0 || !this.deps.egress) return;
    await this.deps.runtime.egress?.resume(withRules.map((r) => r.id));
    for (const row of withRules) {
      try {
        const spec = row.spec;
        const checked = (spec.network?.egress?.length ? this.checkEgress(row.tenantId, spec) : undefined) ?? { rules: [], secretNames: [] };
        this.deps.egress.register(row.tenantId, row.id, checked);
      } catch (err) {
        this.deps.log.warn("a sandbox's egress could not be resumed; it keeps loopback only", { tenantId: row.tenantId, sandboxId: row.id, err });
      }
    }
  }

  /** Rules under the tenant's ceiling (400 naming the rule); undefined for a sandbox without rules. */
  private checkEgress(tenantId: string, spec: SandboxSpec): CheckedEgress | undefined {
    if (!spec.network?.egress?.length && !spec.network?.secrets?.length) return undefined;
    if (!this.deps.egress) throw invalidInput("spec.network.egress is not available on this server", { field: "spec.network.egress" });
    return this.deps.egress.check(tenantId, spec);
  }

  get(tenantId: string, id: string): SandboxRow {
    return found(this.deps.store.get(tenantId, id), "sandbox", id, tenantId);
  }

  find(tenantId: string, id: string): SandboxRow | undefined {
    return this.deps.store.get(tenantId, id);
  }

  resourceVersion(): string {
    return this.deps.store.resourceVersion();
  }

  list(tenantId: string, q: SandboxListQuery) {
    return this.deps.store.list(tenantId, q);
  }

  /**
   * SIGTERM, grace period, SIGKILL; resolves with the final record. Idempotent.
   * `expired` (the lifetime ran out) makes the reason `expired` instead of `stopped`.
   */
  stop(tenantId: string, id: string, gracePeriodMs = DEFAULT_STOP_GRACE_MS, expired?: { message: string }): Promise<SandboxRow> {
    this.get(tenantId, id);
    return this.lock.run(id, async () => {
      const row = this.get(tenantId, id);
      const state = row.lifecycleState;
      if (TERMINAL_STATES.includes(state)) return row;
      if (state !== "stopping") {
        this.transition(
          row,
          "stopping",
          expired ? { reason: "expired", message: `${expired.message}: SIGTERM sent` } : { message: "stopping: SIGTERM sent, SIGKILL after the grace period" },
        );
      }
      const launch = this.launches.get(id);
      if (launch) {
        launch.abort.abort();
        await launch.done;
      }
      await this.terminate(id, gracePeriodMs);
      const after = this.get(tenantId, id);
      if (after.lifecycleState === "stopping") {
        // Nothing was running (stopped during pull): no exit will come.
        return this.transition(after, "stopped", {
          reason: after.reason === "expired" ? "expired" : "stopped",
          message: after.reason === "expired" ? "expired before the process started" : "stopped before the process started",
        });
      }
      return after;
    });
  }

  /** The lifetime ran out (sandbox-lifetimes.ts): stop with reason `expired`. */
  expire(tenantId: string, id: string, message: string): Promise<SandboxRow> {
    return this.stop(tenantId, id, DEFAULT_STOP_GRACE_MS, { message });
  }

  /**
   * A declared port could not be published (say `socat` is missing on the host):
   * the sandbox cannot serve what it declares, so it ends `failed` with the cause
   * in its message and its process is stopped, instead of looking usable (or
   * keeping its service `starting`) with the cause only in the server's log.
   */
  async failToPublish(tenantId: string, id: string, message: string): Promise<void> {
    if (!this.deps.store.get(tenantId, id)) return;
    await this.lock.run(id, async () => {
      const row = this.deps.store.get(tenantId, id);
      if (!row || TERMINAL_STATES.includes(row.lifecycleState) || row.lifecycleState === "stopping") return;
      this.transition(row, "failed", { reason: "start_failed", message });
      await this.terminate(id, 0);
      await this.release(tenantId, id);
    });
  }

  /** Delete works from every state: stop first if needed (with `gracePeriodMs` between SIGTERM and SIGKILL), then remove every trace. */
  async delete(tenantId: string, id: string, gracePeriodMs?: number): Promise<void> {
    const row = this.get(tenantId, id);
    if (!TERMINAL_STATES.includes(row.lifecycleState)) await this.stop(tenantId, id, gracePeriodMs);
    await this.lock.run(id, async () => {
      await this.deps.runtime.delete(id).catch((err) => this.deps.log.warn("runtime delete failed", { sandboxId: id, err }));
      this.deps.egress?.forget(tenantId, id);
      rmSync(this.retainedLogPath(tenantId, id), { force: true });
      const last = this.deps.store.get(tenantId, id);
      if (this.deps.store.delete(tenantId, id) && last) {
        this.deps.events.publish({ type: "sandbox", action: "deleted", tenantId, key: id, resource: sandboxView(last) });
      }
    });
  }

  /** Stops and deletes all of a tenant's sandboxes at once, so grace periods overlap. */
  async deleteAllOfTenant(tenantId: string): Promise<void> {
    await Promise.all(this.deps.store.idsOfTenant(tenantId).map((id) => this.delete(tenantId, id)));
  }

  /** Where the main process's output is: the live monitor log, or the copy kept after exit. */
  /** The main process's output records from byte `offset` of its log (live, or the copy kept once it ended), and the offset after them. */
  readLog(row: SandboxRow, offset: number): Promise<{ records: LogRecord[]; offset: number }> {
    return readRecordsFrom(this.logPath(row), offset);
  }

  /** Every output record of the main process so far. */
  readWholeLog(row: SandboxRow): Promise<LogRecord[]> {
    return readAllRecords(this.logPath(row));
  }

  logPath(row: SandboxRow): string {
    return TERMINAL_STATES.includes(row.lifecycleState) ? this.retainedLogPath(row.tenantId, row.id) : this.deps.runtime.logPath(row.id);
  }

  /** Stop watching containers (they keep running) so the process can exit. */
  close(): void {
    this.shutdown.abort();
    for (const l of this.launches.values()) l.abort.abort();
  }

  /**
   * Makes the records and the host agree after the server was away (reconciler.ts):
   * the reconciler gets this entity's state-table steps, never its fields.
   */
  reconcile(log: Logger): Promise<ReconcileReport> {
    const steps = {
      transition: (row: SandboxRow, to: SandboxState, patch?: { reason?: SandboxReason | null; message?: string | null }) => this.transition(row, to, patch),
      startLaunch: (row: SandboxRow) => this.startLaunch(row),
      watchExit: (tenantId: string, id: string) => this.watchExit(tenantId, id),
      recordExit: (tenantId: string, id: string, exit: ExitInfo) => this.recordExit(tenantId, id, exit),
      release: (tenantId: string, id: string) => this.release(tenantId, id),
      stop: (tenantId: string, id: string) => this.stop(tenantId, id),
      resumeEgress: (rows: SandboxRow[]) => this.resumeEgress(rows),
    };
    return reconcileSandboxes(this.deps.store, this.deps.runtime, steps, log, this.deps.instanceId);
  }

  // ---- internals ----

  private transition(
    row: SandboxRow,
    to: SandboxState,
    patch: { reason?: SandboxReason | null; message?: string | null; exitCode?: number | null; phases?: SandboxRow["phases"]; imageDigest?: string } = {},
  ): SandboxRow {
    const from = row.lifecycleState;
    assertTransition(row.id, from, to);
    // Launch progress (→ starting, starting → ready) is observed state: after a power
    // loss the container is gone too and the reconciler relaunches from the record,
    // so these commits skip the fsync. Everything else is synced.
    const fsync = !((to === "starting" && from === "pending") || (to === "ready" && from === "starting"));
    const next = this.deps.store.update(row.tenantId, row.id, { lifecycleState: to, stateChangedAt: new Date().toISOString(), ...patch }, { fsync });
    if (!next) throw notFound("sandbox", row.id, row.tenantId);
    this.publish(next, from);
    return next;
  }

  /** `image` is given when create found it present, so the launch skips the pull. */
  private startLaunch(row: Pick<SandboxRow, "tenantId" | "id" | "spec">, image?: ImageRecord): void {
    const abort = new AbortController();
    const done = this.launch(row, abort.signal, image).finally(() => this.launches.delete(row.id));
    this.launches.set(row.id, { abort, done });
  }

  /** Follow a running container until its process exits, then record the exit. */
  private watchExit(tenantId: string, id: string): void {
    if (this.exits.has(id)) return;
    const done = this.deps.runtime
      .wait(id, this.shutdown.signal)
      .then((exit) => this.recordExit(tenantId, id, exit))
      .catch(async (err) => {
        if (this.shutdown.signal.aborted) return;
        if (err instanceof RuntimeError && err.kind === "lost") return this.recordLost(tenantId, id, err);
        this.deps.log.error("waiting for a sandbox failed", { sandboxId: id, err });
      })
      .finally(() => this.exits.delete(id));
    this.exits.set(id, done);
  }

  private async recordExit(tenantId: string, id: string, exit: ExitInfo): Promise<void> {
    const row = this.deps.store.get(tenantId, id);
    if (!row || TERMINAL_STATES.includes(row.lifecycleState)) return;
    const requested = row.lifecycleState === "stopping";
    const detail = exit.signal ? `${exit.signal} (exit code ${exit.exitCode})` : `exit code ${exit.exitCode}`;
    if (requested && row.reason === "expired")
      this.transition(row, "stopped", { reason: "expired", exitCode: exit.exitCode, message: `${row.message ?? "expired"}; the process ended with ${detail}` });
    else if (requested)
      this.transition(row, "stopped", { reason: "stopped", exitCode: exit.exitCode, message: `stopped on request; the process ended with ${detail}` });
    else if (exit.oomKilled)
      this.transition(row, "failed", { reason: "oom_killed", exitCode: exit.exitCode, message: "the process was killed for exceeding its memory limit" });
    else if (exit.exitCode === 0) this.transition(row, "stopped", { reason: "exited", exitCode: 0, message: "the process exited with code 0" });
    else this.transition(row, "failed", { reason: "exited", exitCode: exit.exitCode, message: `the process exited with ${detail}` });
    await this.release(tenantId, id);
  }

  /**
   * The monitor (conmon) died: nothing records the exit, serves stdio or writes the
   * log any more, so the sandbox is `failed`/`lost` and its process is stopped rather
   * than left running unwatched and reported `ready` (issue 15, finding 14).
   */
  private async recordLost(tenantId: string, id: string, err: RuntimeError): Promise<void> {
    const row = this.deps.store.get(tenantId, id);
    if (!row || TERMINAL_STATES.includes(row.lifecycleState)) return;
    this.deps.log.warn("sandbox lost its monitor", { tenantId, sandboxId: id, message: err.message });
    this.transition(row, "failed", {
      reason: "lost",
      message: "the sandbox's monitor (conmon) died, so its process was no longer supervised and was stopped; create the sandbox again",
    });
    await this.release(tenantId, id);
  }

  /** Free the host resources of a finished container, keeping its log. */
  private async release(tenantId: string, id: string): Promise<void> {
    try {
      mkdirSync(join(this.deps.retainedDir, tenantId), { recursive: true, mode: 0o700 });
      copyFileSync(this.deps.runtime.logPath(id), this.retainedLogPath(tenantId, id));
      tightenFileSync(this.retainedLogPath(tenantId, id)); // the copy keeps conmon's 0640
    } catch {
      /* no log was written */
    }
    await this.deps.runtime.delete(id).catch((err) => this.deps.log.warn("releasing a finished container failed", { sandboxId: id, err }));
    this.deps.egress?.unregister(id);
  }

  private retainedLogPath(tenantId: string, id: string): string {
    return join(this.deps.retainedDir, tenantId, `${id}.log`);
  }

  private async terminate(id: string, gracePeriodMs: number): Promise<void> {
    const state = await this.deps.runtime.state(id);
    if (!state || state.status !== "running") {
      if (state) {
        const row = this.findRow(id);
        if (row && state.exit) await this.recordExit(row.tenantId, id, state.exit);
        else if (row) await this.release(row.tenantId, id);
      }
      return;
    }
    const row = this.findRow(id);
    if (row) this.watchExit(row.tenantId, id);
    const exited = this.exits.get(id) ?? Promise.resolve();
    await this.deps.runtime.signal(id, "SIGTERM").catch(() => undefined);
    const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), gracePeriodMs).unref())]);
    if (timedOut) await this.deps.runtime.signal(id, "SIGKILL").catch(() => undefined);
    await exited;
  }

  private findRow(id: string): SandboxRow | undefined {
    const key = this.deps.store.allKeys().find((k) => k.id === id);
    return key && this.deps.store.get(key.tenantId, id);
  }

  /** Stops a launch whose record could not be written and removes what it made. */
  private abandonLaunch(id: string): void {
    const launch = this.launches.get(id);
    if (!launch) return;
    launch.abort.abort();
    void launch.done.then(() => this.deps.runtime.delete(id)).catch((err) => this.deps.log.warn("removing an abandoned launch failed", { sandboxId: id, err }));
  }

  private async launch(initial: Pick<SandboxRow, "tenantId" | "id" | "spec">, signal: AbortSignal, present?: ImageRecord): Promise<void> {
    const { tenantId, id } = initial;
    const spec = initial.spec;
    let phase: "pull" | "start" = "pull";
    let created = false;
    try {
      let image = present;
      let pullMs = 0;
      if (!image) {
        const t0 = performance.now();
        image = await this.deps.images.pull(tenantId, spec.root.source.reference, { signal });
        pullMs = Math.round(performance.now() - t0);
        if (signal.aborted) return;
        // A relaunch after a restart may already be `starting`.
        const row = this.get(tenantId, id);
        if (row.lifecycleState === "pending")
          this.transition(row, "starting", { imageDigest: image.digest, phases: { pullMs }, message: "creating the container" });
      }
      phase = "start";
      const lowerDirs = image.layers.map((l) => l.dir);
      const process = resolveProcess(image.config, spec.process ?? {}, lowerDirs);
      const egress = this.checkEgress(tenantId, spec);
      if (egress) process.env = [...process.env, ...this.deps.egress!.env(egress)];
      const resources = clampResources(spec.resources);
      const t1 = performance.now();
      await this.deps.runtime.create({
        id,
        rootfs: { lowerDirs },
        process,
        hostname: id.slice(0, 63),
        resources: {
          cpuCount: resources.cpuCount,
          memoryLimitBytes: resources.memoryLimitBytes,
          pidsLimit: resources.pidsLimit,
          // Only a limit the spec asks for gets its own filesystem (see disk-limit.ts).
          ...(spec.resources?.diskLimitBytes !== undefined ? { diskLimitBytes: resources.diskLimitBytes } : {}),
        },
        ...(this.deps.tenantLimits ? { group: this.deps.tenantLimits.group(tenantId) } : {}),
        annotations: {
          "io.nimbus.tenant": tenantId,
          "io.nimbus.sandbox": id,
          ...(this.deps.instanceId ? { [INSTANCE_ANNOTATION]: this.deps.instanceId } : {}),
        },
        ...(egress ? { network: { egress: true as const } } : {}),
        ...(spec.process?.init ? { init: true as const } : {}),
        ...(spec.process?.closableStdin ? { closableStdin: true as const } : {}),
      });
      created = true;
      // Before start: the first packet the process sends already meets its rules.
      if (egress) this.deps.egress!.register(tenantId, id, egress);
      const createMs = Math.round(performance.now() - t1);
      if (signal.aborted) return;
      const t2 = performance.now();
      await this.deps.runtime.start(id);
      const startMs = Math.round(performance.now() - t2);
      const row = this.get(tenantId, id);
      if (row.lifecycleState !== "starting") return;
      this.transition(row, "ready", { phases: { pullMs, createMs, startMs }, message: null });
      this.watchExit(tenantId, id);
    } catch (err) {
      // With the image present the launch runs synchronously up to its first await, so a
      // spec the image cannot satisfy (an unknown user name) throws before create() has
      // inserted the record; one turn later it is there (issue 15 finding 16: such
      // creates stayed `starting` forever).
      await Promise.resolve();
      if (signal.aborted && !this.shutdown.signal.aborted) return;
      if (this.shutdown.signal.aborted) return;
      const row = this.deps.store.get(tenantId, id);
      if (!row || TERMINAL_STATES.includes(row.lifecycleState) || row.lifecycleState === "stopping") return;
      const appErr = phase === "pull" ? translateImageError(err) : translateRuntimeError(err);
      // The tenant sees appErr's message; the operator's log also gets the cause (e.g. which address a registry pull was refused).
      this.deps.log.warn("sandbox launch failed", {
        tenantId,
        sandboxId: id,
        phase,
        code: appErr.code,
        message: appErr.message,
        cause: err instanceof Error ? err.message : String(err),
      });
      this.transition(row, "failed", { reason: phase === "pull" ? "pull_failed" : "start_failed", message: appErr.message });
      if (created || phase === "start") await this.release(tenantId, id);
    }
  }

  private publish(row: SandboxRow, previous: SandboxState | undefined): void {
    this.deps.events.publish({ type: "sandbox", action: "updated", tenantId: row.tenantId, key: row.id, resource: sandboxView(row) });
    for (const l of this.listeners) {
      try {
        l(row, previous);
      } catch (err) {
        this.deps.log.error("sandbox change listener failed", { err });
      }
    }
  }
}
