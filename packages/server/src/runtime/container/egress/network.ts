// runtime/container/egress/network.ts — one server's egress network as a unit:
// bridge, proxy and nftables table come up together in start() and go away in
// close(); attach()/detach() give one container (between create and start) its
// veth and address. Everything is named from the state dir, so start() after a
// crash adopts the bridge, replaces the table, and re-adopts the veths whose
// containers the caller says are still alive (sweeping the rest).
// The container backend owns one (crun-backend.ts, egress-facet.ts).

import { ensureBridge, removeBridge } from "./bridge.js";
import { capacityOf, contains, gatewayOf, parseBlock, sandboxAddress, toNumber, type Block } from "./address-block.js";
import { defaultSandboxBlock, egressNames, vethName, type EgressNames } from "./names.js";
import { applyRuleset, removeTable } from "./nft.js";
import { DnsResponder, type DnsPolicy } from "./dns-responder.js";
import { EgressProxy, type Decide, type ProxyOptions } from "./proxy.js";
import { attachVeth, listVeths, removeVeth } from "./veth.js";
import { openPreferring, readListenPorts, writeListenPorts } from "./listen-ports.js";

export interface EgressNetworkOptions {
  stateDir: string;
  /** IPv4 CIDR for sandboxes; default a /16 in 100.64.0.0/10 derived from the state dir. */
  sandboxBlock?: string;
  decide: Decide;
  /** The DNS responder's port on the gateway address; without one (and without `dns`), DNS is not redirected. */
  dnsPort?: number;
  /** Run a DNS responder on the gateway address (it needs the bridge, so it starts here) and redirect DNS to it. */
  dns?: { policy: DnsPolicy; upstream?: string[] };
  proxy?: Omit<ProxyOptions, "host" | "decide">;
  /** Containers that survived a server restart: their veths are kept; other veths of this server are removed. */
  liveContainerIds?: Iterable<string>;
}

export class EgressNetwork {
  readonly names: EgressNames;
  readonly block: Block;
  readonly blockCidr: string;
  readonly gateway: string;
  private proxy: EgressProxy | undefined;
  private dns: DnsResponder | undefined;
  /** containerId → address index. */
  private readonly leases = new Map<string, number>();

  constructor(private readonly options: EgressNetworkOptions) {
    this.names = egressNames(options.stateDir);
    this.blockCidr = options.sandboxBlock ?? defaultSandboxBlock(options.stateDir);
    this.block = parseBlock(this.blockCidr);
    this.gateway = gatewayOf(this.block);
  }

  /** The DNS responder's port, when this network runs one. */
  get dnsResponderPort(): number | undefined {
    return this.dns?.port;
  }

  get proxyPort(): number {
    if (!this.proxy) throw new Error("the egress network is not started");
    return this.proxy.port;
  }

  /** `liveContainerIds` overrides the option (read when the network starts, not when it was built). */
  async start(liveContainerIds?: Iterable<string>): Promise<void> {
    await ensureBridge(this.names.bridge, `${this.gateway}/${this.block.prefixLength}`);
    const last = readListenPorts(this.options.stateDir);
    const proxy = await openPreferring(last.proxy, async (port) => {
      const p = new EgressProxy({ ...this.options.proxy, host: this.gateway, port, decide: this.options.decide });
      await p.listen();
      return p;
    });
    this.proxy = proxy;
    try {
      let dnsPort = this.options.dnsPort;
      if (this.options.dns) {
        const { upstream, policy } = this.options.dns;
        this.dns = await openPreferring(last.dns, async (port) => {
          const d = new DnsResponder({ host: this.gateway, port, upstream, policy });
          await d.start();
          return d;
        });
        dnsPort = this.dns.port;
      }
      writeListenPorts(this.options.stateDir, { proxy: proxy.port, ...(this.dns ? { dns: this.dns.port } : {}) });
      await applyRuleset({
        table: this.names.table,
        bridge: this.names.bridge,
        sandboxBlock: this.blockCidr,
        proxyPort: proxy.port,
        dnsPort,
      });
      await this.adopt(new Set(liveContainerIds ?? this.options.liveContainerIds ?? []));
    } catch (err) {
      await this.close().catch(() => {});
      throw err;
    }
  }

  /** Gives the container whose init is `pid` (created, not started) its link; returns its address. */
  async attach(containerId: string, pid: number): Promise<string> {
    const index = this.lease(containerId);
    const address = sandboxAddress(this.block, index);
    try {
      await attachVeth({
        hostName: vethName(this.options.stateDir, containerId),
        bridge: this.names.bridge,
        containerId,
        pid,
        address,
        prefixLength: this.block.prefixLength,
        gateway: this.gateway,
      });
    } catch (err) {
      this.leases.delete(containerId);
      throw err;
    }
    return address;
  }

  /** The container's address, while it has a link (attached, or re-adopted by start()). */
  addressOf(containerId: string): string | undefined {
    const index = this.leases.get(containerId);
    return index === undefined ? undefined : sandboxAddress(this.block, index);
  }

  /** Removes the container's link (gone already when its netns died) and frees its address. Idempotent. */
  async detach(containerId: string): Promise<void> {
    await removeVeth(vethName(this.options.stateDir, containerId));
    this.leases.delete(containerId);
  }

  /** Re-decides the open connections of a container whose rules changed; closes what is no longer allowed. */
  async recheck(containerId: string): Promise<number> {
    const address = this.addressOf(containerId);
    return address && this.proxy ? this.proxy.recheck(address) : 0;
  }

  /** How many containers have a link now. */
  get attachedCount(): number {
    return this.leases.size;
  }

  /**
   * Stops the proxy and the DNS responder only: the table keeps redirecting to
   * their (now closed) ports, so every connection is refused, and the links
   * stay for a later start() to re-adopt.
   */
  async stopListeners(): Promise<void> {
    await this.proxy?.close();
    this.proxy = undefined;
    await this.dns?.close();
    this.dns = undefined;
  }

  /** Removes the table first (so nothing is left open), then the proxy, the veths and the bridge. */
  async close(): Promise<void> {
    await removeTable(this.names.table);
    await this.proxy?.close();
    this.proxy = undefined;
    await this.dns?.close();
    this.dns = undefined;
    for (const v of await listVeths(this.names.vethPrefix)) await removeVeth(v.hostName);
    this.leases.clear();
    await removeBridge(this.names.bridge);
  }

  private lease(containerId: string): number {
    const existing = this.leases.get(containerId);
    if (existing !== undefined) return existing;
    const used = new Set(this.leases.values());
    for (let i = 0; i < capacityOf(this.block); i++) {
      if (!used.has(i)) {
        this.leases.set(containerId, i);
        return i;
      }
    }
    throw new Error(`the sandbox block ${this.blockCidr} is full`);
  }

  private async adopt(live: Set<string>): Promise<void> {
    for (const v of await listVeths(this.names.vethPrefix)) {
      const index = v.containerId && live.has(v.containerId) ? indexOf(this.block, v.address) : undefined;
      if (index === undefined || !v.containerId) await removeVeth(v.hostName);
      else this.leases.set(v.containerId, index);
    }
  }
}

/** The lease index of `address`, or undefined when it is not a sandbox address of this block (e.g. the block changed). */
function indexOf(block: Block, address: string | undefined): number | undefined {
  if (!address || !/^\d+\.\d+\.\d+\.\d+$/.test(address) || !contains(block, address)) return undefined;
  const i = toNumber(address) - block.base - 2;
  return i >= 0 && i < capacityOf(block) ? i : undefined;
}
