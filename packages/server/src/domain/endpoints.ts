/**
 * Endpoints (ext): the `ports` a sandbox spec declares, reachable while the
 * sandbox is `ready` and reported in `status.endpoints` (services show their
 * current sandbox's). By default a port is reachable only through the
 * authenticated service proxy (a unix socket only the server's user can
 * open); `publish: "host"` also opens an unauthenticated TCP listener on the
 * host's loopback (issue 15 #19). A proxy-only endpoint reports no host or
 * port, since nothing listens on the host for it. Publishing
 * starts when a sandbox becomes ready and everything is taken down when it
 * leaves ready, so no helper outlives its sandbox. After a restart the
 * re-adopted sandboxes are published again (on new host ports).
 */
import { Agent, type ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";
import type { SandboxRow, SandboxStore } from "../store/sandbox-store.js";
import type { PortForward, RuntimeBackend } from "../runtime/backend.js";
import type { EventBus } from "./events.js";
import type { PortSpec, SandboxSpec } from "./sandbox-spec.js";
import { sandboxView } from "./sandbox-view.js";

export type Endpoint = SandboxRow["endpoints"][number];

export interface EndpointsDeps {
  store: SandboxStore;
  /** Its ports facet reaches the sandboxes' ports. */
  runtime: RuntimeBackend;
  events: EventBus;
  log: Logger;
  /** A port of a live sandbox could not be published; `message` says why and what to do. */
  onPublishFailed?: (row: SandboxRow, message: string) => void;
}

/** Told when a sandbox's endpoints were published or taken down. */
export type EndpointsListener = (row: SandboxRow) => void;

interface Published {
  forwards: Map<number, PortForward>;
  agents: Map<number, Agent>;
  cancelled: boolean;
  done: Promise<void>;
}

/** An HTTP agent whose connections go straight into the sandbox's port (keep-alive pooled). */
class ForwardAgent extends Agent {
  constructor(private readonly forward: PortForward) {
    super({ keepAlive: true, maxSockets: 256 });
  }

  override createConnection(_options: ClientRequestArgs, _callback?: (err: Error | null, stream: Duplex) => void): Duplex {
    return this.forward.connect();
  }
}

export function declaredPorts(spec: SandboxSpec): PortSpec[] {
  return spec.ports ?? [];
}

export function endpointName(p: PortSpec): string {
  return p.name ?? `port-${p.port}`;
}

/** What the view reports for a port: the host listener only when one was opened. */
export function endpointOf(p: PortSpec, host: string, hostPort: number | undefined): Endpoint {
  const base = { name: endpointName(p), protocol: p.protocol ?? "tcp", targetPort: p.port };
  return hostPort === undefined ? { ...base, publish: "proxy" } : { ...base, publish: "host", host, port: hostPort };
}

export class Endpoints {
  private readonly published = new Map<string, Published>();
  private readonly listeners: EndpointsListener[] = [];
  private started = false;

  constructor(private readonly deps: EndpointsDeps) {}

  onChange(listener: EndpointsListener): void {
    this.listeners.push(listener);
  }

  /** Sandbox change hook: publish on `ready`, take down on anything else. */
  onSandboxChange(row: SandboxRow): void {
    if (!this.started) return;
    if (row.lifecycleState === "ready") this.publish(row);
    else this.unpublish(row);
  }

  /** Boot, after the reconciler: kill helpers a killed server left, then publish every ready sandbox again. */
  start(): void {
    this.started = true;
    const swept = this.deps.runtime.ports.sweep();
    if (swept > 0) this.deps.log.info("removed port forwarders left by an earlier server", { count: swept });
    for (const row of this.deps.store.allInStates(["pending", "starting", "ready", "stopping", "stopped", "failed"])) {
      // Host ports recorded by a server that was killed are gone with it.
      const current = row.endpoints.length > 0 ? (this.setEndpoints(row, []) ?? row) : row;
      if (current.lifecycleState === "ready") this.publish(current);
    }
  }

  /** Resolves once the sandbox's ports are published (or publishing failed or was cancelled). */
  whenPublished(sandboxId: string): Promise<void> {
    return this.published.get(sandboxId)?.done ?? Promise.resolve();
  }

  /** The HTTP agent for a published port of a sandbox (the proxy and HTTP probes use it). */
  agent(sandboxId: string, port: number): Agent | undefined {
    return this.published.get(sandboxId)?.agents.get(port);
  }

  /** Take every port down (server shutdown; sandboxes keep running and are published again at the next boot). */
  async close(): Promise<void> {
    this.started = false;
    const entries = [...this.published.entries()];
    this.published.clear();
    await Promise.all(entries.map(([id, e]) => this.teardown(id, e)));
    for (const [id] of entries) {
      const key = this.deps.store.allKeys().find((k) => k.id === id);
      const row = key && this.deps.store.get(key.tenantId, id);
      if (row && row.endpoints.length > 0) this.deps.store.update(row.tenantId, row.id, { endpoints: [] });
    }
  }

  private publish(row: SandboxRow): void {
    const ports = declaredPorts(row.spec);
    if (ports.length === 0 || this.published.has(row.id)) return;
    const entry: Published = { forwards: new Map(), agents: new Map(), cancelled: false, done: Promise.resolve() };
    this.published.set(row.id, entry);
    entry.done = (async () => {
      for (const p of ports) {
        if (entry.cancelled) break;
        const forward = await this.deps.runtime.ports.publish(row.id, p.port, { host: p.publish === "host" });
        entry.forwards.set(p.port, forward);
        entry.agents.set(p.port, new ForwardAgent(forward));
      }
      const current = this.deps.store.get(row.tenantId, row.id);
      if (entry.cancelled || current?.lifecycleState !== "ready") return;
      const host = this.deps.runtime.ports.host;
      this.setEndpoints(
        current,
        ports.map((p) => endpointOf(p, host, entry.forwards.get(p.port)!.hostPort)),
      );
    })().catch((err) => {
      this.deps.log.warn("publishing sandbox ports failed", { tenantId: row.tenantId, sandboxId: row.id, err: (err as Error).message });
      if (!entry.cancelled) this.deps.onPublishFailed?.(row, `could not publish the sandbox's ports: ${(err as Error).message}`);
    });
  }

  private unpublish(row: SandboxRow): void {
    const entry = this.published.get(row.id);
    if (entry) {
      this.published.delete(row.id);
      void this.teardown(row.id, entry);
    }
    if (row.endpoints.length > 0) this.setEndpoints(row, []);
  }

  private async teardown(sandboxId: string, entry: Published): Promise<void> {
    entry.cancelled = true;
    await entry.done;
    for (const a of entry.agents.values()) a.destroy();
    await Promise.all([...entry.forwards.values()].map((f) => f.close())).catch((err) => {
      this.deps.log.warn("closing a port forwarder failed", { sandboxId, err: (err as Error).message });
    });
  }

  private setEndpoints(row: SandboxRow, endpoints: Endpoint[]): SandboxRow | undefined {
    const next = this.deps.store.update(row.tenantId, row.id, { endpoints });
    if (!next) return undefined;
    this.deps.events.publish({ type: "sandbox", action: "updated", tenantId: next.tenantId, key: next.id, resource: sandboxView(next) });
    for (const l of this.listeners) {
      try {
        l(next);
      } catch (err) {
        this.deps.log.error("endpoints listener failed", { err });
      }
    }
    return next;
  }
}
