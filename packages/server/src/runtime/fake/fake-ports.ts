// runtime/fake/fake-ports.ts — the fake backend's ports facet. The fake runs
// no processes, so nothing listens inside its containers: a unit test stands
// in for the container's process with `listen(id, port, target)`, a TCP port
// on loopback that the test owns, and publish() then reaches it.
// May import: node built-ins and runtime/ only.

import { connect } from "node:net";
import type { ContainerState, PortForward, PortsFacet } from "../backend.js";
import { RuntimeError } from "../errors.js";

export class FakePorts implements PortsFacet {
  readonly host = "127.0.0.1";
  private readonly targets = new Map<string, number>();

  constructor(private readonly stateOf: (id: string) => Promise<ContainerState | undefined>) {}

  /** Test hook: container `id`'s process "listens" on `port`; connections go to loopback `targetPort`. */
  listen(id: string, port: number, targetPort: number): void {
    this.targets.set(`${id}:${port}`, targetPort);
  }

  async publish(id: string, port: number, options: { host?: boolean } = {}): Promise<PortForward> {
    const target = await this.target(id, port);
    if (target === undefined) throw new RuntimeError("not_found", `nothing listens on port ${port} of fake container ${id}`);
    const open = new Set<ReturnType<typeof connect>>();
    return {
      port,
      // The test's own listener plays the host listener: the fake opens nothing on the host.
      hostPort: options.host ? target : undefined,
      connect: () => {
        const socket = connect(target, this.host);
        open.add(socket);
        socket.on("close", () => open.delete(socket));
        return socket;
      },
      close: async () => {
        for (const s of open) s.destroy();
      },
    };
  }

  async isListening(id: string, port: number): Promise<boolean> {
    return (await this.target(id, port)) !== undefined;
  }

  sweep(): number {
    return 0;
  }

  private async target(id: string, port: number): Promise<number | undefined> {
    const state = await this.stateOf(id);
    return state?.status === "running" ? this.targets.get(`${id}:${port}`) : undefined;
  }
}
