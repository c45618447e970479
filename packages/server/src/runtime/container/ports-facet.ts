// runtime/container/ports-facet.ts — the ports facet of the container backend:
// a port is reached through a socat helper inside the container's network
// namespace (port-forward.ts), found by the container's init pid.
// May import: node built-ins and runtime/ only.

import { existsSync } from "node:fs";
import type { ContainerState, PortForward, PortsFacet } from "../backend.js";
import { RuntimeError } from "../errors.js";
import { isListening, PortForwarder } from "./port-forward.js";

export class ContainerPorts implements PortsFacet {
  private readonly forwarder: PortForwarder;
  /**
   * Init pids by container, so a readiness probe every 50 ms does not run
   * `crun state` each time; a pid whose /proc entry is gone is looked up again.
   */
  private readonly pids = new Map<string, number>();

  constructor(
    socketDir: string,
    private readonly stateOf: (id: string) => Promise<ContainerState | undefined>,
  ) {
    this.forwarder = new PortForwarder({ socketDir });
  }

  get host(): string {
    return this.forwarder.host;
  }

  async publish(id: string, port: number, options: { host?: boolean } = {}): Promise<PortForward> {
    const state = await this.stateOf(id);
    if (state?.status !== "running" || !state.pid) throw new RuntimeError("not_found", `container ${id} has no running process to publish port ${port} of`);
    return this.forwarder.publish(id, state.pid, port, options);
  }

  async isListening(id: string, port: number): Promise<boolean> {
    let pid = this.pids.get(id);
    if (pid === undefined || !existsSync(`/proc/${pid}`)) {
      const state = await this.stateOf(id);
      this.pids.delete(id);
      if (state?.status !== "running" || !state.pid) return false;
      pid = state.pid;
      this.pids.set(id, pid);
    }
    return isListening(pid, port);
  }

  /** The container is gone: forget its pid. */
  forget(id: string): void {
    this.pids.delete(id);
  }

  sweep(): number {
    return this.forwarder.sweep();
  }

  /** Closes every published port (the backend closes). */
  closeAll(): Promise<void> {
    return this.forwarder.closeAll();
  }
}
