/**
 * The service supervisor: watches every service-owned sandbox and keeps the
 * name served. A backing sandbox that becomes ready is gated by the
 * endpoints being published and the readiness probe passing before the
 * service is `running`; the probe keeps running to report `health`. A
 * sandbox that exits is replaced per `restartPolicy` (never | on_failure |
 * always, at most `maxRestarts` times) after an exponential backoff, or the
 * service ends `stopped`/`failed` with the exit code. At boot, after the
 * sandbox reconciler re-adopted what survived, it picks every service up
 * where it was: a still-ready sandbox is kept (same id, nothing launched).
 */
import { request, type Agent } from "node:http";
import type { Logger } from "../log.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import type { ServiceRow, ServiceStore } from "../store/service-store.js";
import type { RuntimeBackend } from "../runtime/backend.js";
import type { Endpoints } from "./endpoints.js";
import { ACTIVE_STATES, TERMINAL_STATES } from "./sandbox-state.js";
import type { Sandboxes } from "./sandboxes.js";
import { backoffMs, BACKOFF_BASE_MS, DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_POLICY, shouldRestart } from "./service-state.js";
import { specOf, type ReadinessProbe, type Services } from "./services.js";

export interface SupervisorDeps {
  services: Services;
  store: ServiceStore;
  sandboxes: Sandboxes;
  endpoints: Endpoints;
  runtime: RuntimeBackend;
  log: Logger;
  /** The first restart's delay; each next one doubles (capped at 30 s). @default 250 */
  backoffBaseMs?: number;
}

export const DEFAULT_PROBE_PERIOD_MS = 1_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** While starting, probe at least this often so readiness is seen quickly. */
const STARTING_PROBE_PERIOD_MS = 100;

const GATED = ["starting", "running"];

export class Supervisor {
  private started = false;
  private closed = false;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** One readiness/health loop per backing sandbox. */
  private readonly gates = new Map<string, AbortController>();

  constructor(private readonly deps: SupervisorDeps) {}

  /** Sandbox change hook (registered with Sandboxes.onChange). */
  onSandboxChange(row: SandboxRow): void {
    if (!this.started || this.closed || row.serviceName === null) return;
    const name = row.serviceName;
    this.deps.services
      .locked(row.tenantId, name, () => this.react(row.tenantId, name, row.id))
      .catch((err) => this.deps.log.error("supervising a service failed", { tenantId: row.tenantId, service: name, err }));
  }

  /** Endpoints change hook: the service view shows its sandbox's endpoints. */
  onEndpointsChange(row: SandboxRow): void {
    if (row.serviceName === null) return;
    const svc = this.deps.services.find(row.tenantId, row.serviceName);
    if (svc?.sandboxId === row.id) this.deps.services.republish(row.tenantId, svc.name);
  }

  /** Boot, after the sandbox reconciler: resume every service that was meant to run. */
  start(): void {
    this.started = true;
    for (const svc of this.deps.store.allInStates(["starting", "running", "restarting", "stopping"])) {
      this.deps.services
        .locked(svc.tenantId, svc.name, () => this.adopt(svc.tenantId, svc.name))
        .catch((err) => this.deps.log.error("resuming a service failed", { tenantId: svc.tenantId, service: svc.name, err }));
    }
  }

  /** Server shutdown: cancel pending restarts and probes (sandboxes keep running). */
  stop(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const g of this.gates.values()) g.abort();
    this.gates.clear();
  }

  private async adopt(tenantId: string, name: string): Promise<void> {
    const svc = this.deps.services.find(tenantId, name);
    if (!svc) return;
    if (svc.state === "stopping") {
      // A stop was under way when the server went away: finish it.
      const sandbox = svc.sandboxId === null ? undefined : this.deps.sandboxes.find(tenantId, svc.sandboxId);
      if (sandbox && ACTIVE_STATES.includes(sandbox.lifecycleState)) await this.deps.sandboxes.stop(tenantId, sandbox.id);
      this.deps.services.transition(this.deps.services.get(tenantId, name), "stopped", { message: "stopped on request" });
    } else if (svc.state === "restarting") {
      this.scheduleRelaunch(svc, backoffMs(svc.restartCount, this.deps.backoffBaseMs ?? BACKOFF_BASE_MS));
    } else if (svc.sandboxId !== null) {
      await this.react(tenantId, name, svc.sandboxId);
    }
  }

  /** The backing sandbox changed (or we are resuming): gate a ready one, replace an ended one. */
  private async react(tenantId: string, name: string, sandboxId: string): Promise<void> {
    const svc = this.deps.services.find(tenantId, name);
    if (!svc || svc.sandboxId !== sandboxId || !GATED.includes(svc.state)) return;
    const sandbox = this.deps.sandboxes.find(tenantId, sandboxId);
    if (!sandbox) return this.exited(svc, undefined);
    const state = sandbox.lifecycleState;
    if (state === "ready") this.gate(svc, sandboxId);
    else if (TERMINAL_STATES.includes(state)) this.exited(svc, sandbox);
  }

  private exited(svc: ServiceRow, sandbox: SandboxRow | undefined): void {
    const spec = specOf(svc);
    const policy = spec.restartPolicy ?? DEFAULT_RESTART_POLICY;
    const max = spec.maxRestarts ?? DEFAULT_MAX_RESTARTS;
    const failed = !sandbox || sandbox.lifecycleState === "failed";
    const exitCode = sandbox?.exitCode ?? null;
    const how = sandbox ? `sandbox ${sandbox.id}: ${sandbox.message ?? sandbox.lifecycleState}` : `sandbox ${svc.sandboxId} disappeared`;
    this.gates.get(sandbox?.id ?? "")?.abort();
    if (shouldRestart(policy, failed, svc.restartCount, max)) {
      const delayMs = backoffMs(svc.restartCount, this.deps.backoffBaseMs ?? BACKOFF_BASE_MS);
      this.deps.log.info("service sandbox exited; restarting", { tenantId: svc.tenantId, service: svc.name, sandboxId: svc.sandboxId, exitCode, delayMs });
      const next = this.deps.services.transition(svc, "restarting", {
        exitCode,
        message: `${how}; restart ${svc.restartCount + 1} of at most ${max} in ${delayMs} ms (restartPolicy ${policy})`,
      });
      this.scheduleRelaunch(next, delayMs);
    } else if (!failed) {
      this.deps.services.transition(svc, "stopped", { exitCode, message: `${how}; restartPolicy ${policy} does not restart a clean exit` });
    } else {
      const why =
        policy === "never" ? "restartPolicy never" : svc.restartCount >= max ? `gave up after ${max} restarts (maxRestarts)` : `restartPolicy ${policy}`;
      this.deps.log.warn("service failed", { tenantId: svc.tenantId, service: svc.name, sandboxId: svc.sandboxId, exitCode });
      this.deps.services.transition(svc, "failed", { exitCode, message: `${how}; ${why}: start the service again after fixing the cause` });
    }
  }

  private scheduleRelaunch(svc: ServiceRow, delayMs: number): void {
    const k = `${svc.tenantId}\u0000${svc.name}`;
    clearTimeout(this.timers.get(k));
    const previous = svc.sandboxId;
    const timer = setTimeout(() => {
      this.timers.delete(k);
      this.deps.services
        .locked(svc.tenantId, svc.name, async () => {
          const current = this.deps.services.find(svc.tenantId, svc.name);
          if (this.closed || !current || current.state !== "restarting" || current.sandboxId !== previous) return;
          try {
            await this.deps.services.launch(current, { restartCount: current.restartCount + 1 });
          } catch (err) {
            const latest = this.deps.services.find(svc.tenantId, svc.name);
            if (latest?.state === "restarting") this.deps.services.transition(latest, "failed", { message: `relaunching failed: ${(err as Error).message}` });
          }
        })
        .catch((err) => this.deps.log.error("relaunching a service failed", { tenantId: svc.tenantId, service: svc.name, err }));
    }, delayMs);
    this.timers.set(k, timer);
  }

  private gate(svc: ServiceRow, sandboxId: string): void {
    if (this.gates.has(sandboxId)) return;
    const ac = new AbortController();
    this.gates.set(sandboxId, ac);
    void this.runGate(svc.tenantId, svc.name, sandboxId, ac.signal)
      .catch((err) => this.deps.log.error("service readiness check failed", { tenantId: svc.tenantId, service: svc.name, err }))
      .finally(() => {
        if (this.gates.get(sandboxId) === ac) this.gates.delete(sandboxId);
      });
  }

  /** Wait for the endpoints, then probe until ready; afterwards keep probing for `health`. */
  private async runGate(tenantId: string, name: string, sandboxId: string, signal: AbortSignal): Promise<void> {
    await this.deps.endpoints.whenPublished(sandboxId);
    let failures = 0;
    for (;;) {
      if (signal.aborted || this.closed) return;
      const svc = this.deps.services.find(tenantId, name);
      if (!svc || svc.sandboxId !== sandboxId || !GATED.includes(svc.state)) return;
      if (this.deps.sandboxes.find(tenantId, sandboxId)?.lifecycleState !== "ready") return;
      const probe = specOf(svc).readinessProbe;
      if (!probe) {
        if (svc.state === "starting") await this.markRunning(tenantId, name, sandboxId);
        return;
      }
      const ok = await this.probe(probe, sandboxId).catch(() => false);
      failures = ok ? 0 : failures + 1;
      if (svc.state === "starting") {
        if (ok) await this.markRunning(tenantId, name, sandboxId);
      } else if (ok) {
        this.deps.services.setHealth(svc, true);
      } else if (failures >= (probe.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD)) {
        this.deps.services.setHealth(svc, false);
      }
      const period = probe.periodMs ?? DEFAULT_PROBE_PERIOD_MS;
      await sleep(svc.state === "starting" ? Math.min(period, STARTING_PROBE_PERIOD_MS) : period, signal);
    }
  }

  private markRunning(tenantId: string, name: string, sandboxId: string): Promise<void> {
    return this.deps.services.locked(tenantId, name, async () => {
      const svc = this.deps.services.find(tenantId, name);
      if (!svc || svc.state !== "starting" || svc.sandboxId !== sandboxId) return;
      if (this.deps.sandboxes.find(tenantId, sandboxId)?.lifecycleState !== "ready") return;
      const next = this.deps.services.transition(svc, "running", { message: null });
      this.deps.services.setHealth(next, true);
    });
  }

  private async probe(probe: ReadinessProbe, sandboxId: string): Promise<boolean> {
    if (probe.tcp) return this.deps.runtime.ports.isListening(sandboxId, probe.tcp.port);
    if (probe.http) {
      const agent = this.deps.endpoints.agent(sandboxId, probe.http.port);
      return agent !== undefined && httpProbe(agent, probe.http.path, probe.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    }
    return true;
  }
}

/** GET `path` through the sandbox's published port; 2xx/3xx passes. */
function httpProbe(agent: Agent, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ agent, host: "127.0.0.1", path, method: "GET", timeout: timeoutMs, headers: { "user-agent": "nimbus-probe" } }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
    });
    req.on("timeout", () => req.destroy(new Error("probe timed out")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
