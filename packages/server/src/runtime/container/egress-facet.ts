// runtime/container/egress-facet.ts — the container backend's egress facet: one
// EgressNetwork per server, started on the first container that asks for egress
// (a server whose sandboxes never ask pays nothing: no bridge, no table, no
// proxy), attached between `crun create` and `start`, detached on delete. The
// policy is the domain's, bound late through `bind()`: until then everything is
// refused.

import type { EgressConnection, EgressFacet, EgressPolicyHooks } from "../backend.js";
import { EgressNetwork } from "./egress/network.js";
import type { EgressRequest } from "./egress/proxy.js";

export interface ContainerEgressOptions {
  /** The backend's state dir (names the bridge, table and veths). */
  stateDir: string;
  /** Upstream resolvers for allowed names (`addr` or `addr:port`); default the host's. */
  dnsUpstream?: string[];
  /** IPv4 CIDR for sandbox addresses; default a /16 in 100.64.0.0/10 derived from the state dir. */
  sandboxBlock?: string;
  /** Containers alive on disk, whose links a restarted server keeps. */
  liveContainerIds(): Promise<string[]>;
  onError?(err: Error): void;
}

export class ContainerEgress implements EgressFacet {
  private hooks: EgressPolicyHooks | undefined;
  private network: EgressNetwork | undefined;
  private starting: Promise<EgressNetwork> | undefined;
  /** The connection object the domain saw in decide(), per proxy request, for finished(). */
  private readonly connections = new WeakMap<EgressRequest, EgressConnection>();

  constructor(private readonly options: ContainerEgressOptions) {}

  bind(hooks: EgressPolicyHooks): void {
    this.hooks = hooks;
  }

  /** The DNS server a container with egress names in its resolv.conf: the bridge's gateway (known before start). */
  get gateway(): string {
    return (this.network ?? this.build()).gateway;
  }

  addressOf(id: string): string | undefined {
    return this.network?.addressOf(id);
  }

  /** Gives the created (not started) container whose init is `pid` its link; returns its address. */
  async attach(id: string, pid: number): Promise<string> {
    const network = await this.started();
    return network.attach(id, pid);
  }

  /** Idempotent; nothing to do when the network never started or the container had no link. */
  async detach(id: string): Promise<void> {
    if (this.network?.addressOf(id) !== undefined) await this.network.detach(id);
  }

  async close(): Promise<void> {
    const network = this.starting ? await this.starting.catch(() => undefined) : undefined;
    this.starting = undefined;
    this.network = undefined;
    await network?.close();
  }

  private build(): EgressNetwork {
    const decide = async (req: EgressRequest): Promise<boolean> => {
      if (!this.hooks) return false;
      const c: EgressConnection = { client: req.sandboxAddress, address: req.dst.address, port: req.dst.port, protocol: req.protocol };
      if (req.sni) c.sni = req.sni;
      if (req.host) c.host = req.host;
      this.connections.set(req, c);
      return this.hooks.decide(c);
    };
    this.network = new EgressNetwork({
      stateDir: this.options.stateDir,
      sandboxBlock: this.options.sandboxBlock,
      decide,
      proxy: {
        finished: (req, traffic) => {
          const c = this.connections.get(req);
          if (c) this.hooks?.finished?.(c, traffic);
        },
        onError: (err) => this.options.onError?.(err),
      },
      dns: {
        upstream: this.options.dnsUpstream,
        policy: {
          allows: (client, name) => this.hooks?.allowsName(client, name) ?? false,
          resolved: (client, name, addresses, ttl) => this.hooks?.resolved(client, name, addresses, ttl),
        },
      },
    });
    return this.network;
  }

  private started(): Promise<EgressNetwork> {
    this.starting ??= (async () => {
      const network = this.network ?? this.build();
      // liveContainerIds is read lazily: a restarted server keeps the links of containers that survived.
      await network.start(await this.options.liveContainerIds());
      return network;
    })();
    this.starting.catch(() => (this.starting = undefined));
    return this.starting;
  }
}
