// runtime/container/egress-facet.ts — the container backend's egress facet: one
// EgressNetwork per server, started on the first container that asks for egress
// (a server whose sandboxes never ask pays nothing: no bridge, no table, no
// proxy), attached between `crun create` and `start`, detached on delete. The
// policy is the domain's, bound late through `bind()`: until then everything is
// refused.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EgressConnection, EgressFacet, EgressInspection, EgressPolicyHooks } from "../backend.js";
import { EgressCa } from "./egress/egress-ca.js";
import { inspectHttp, inspectHttps } from "./egress/https-inspector.js";
import { EgressNetwork } from "./egress/network.js";
import type { EgressRequest } from "./egress/proxy.js";

/** Where a container with egress finds the CA bundle (the host's roots plus the egress CA). */
export const CA_BUNDLE_DESTINATION = "/etc/nimbus/egress-ca-bundle.pem";
/** The variables common TLS stacks read a CA bundle from (OpenSSL, Node, Python requests, curl). */
export const CA_BUNDLE_ENV = ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"].map((k) => `${k}=${CA_BUNDLE_DESTINATION}`);
/** The host's roots, so TLS that is not inspected still verifies inside the sandbox. */
const HOST_ROOTS = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

export interface ContainerEgressOptions {
  /** The backend's state dir (names the bridge, table and veths). */
  stateDir: string;
  /** Upstream resolvers for allowed names (`addr` or `addr:port`); default the host's. */
  dnsUpstream?: string[];
  /** IPv4 CIDR for sandbox addresses; default a /16 in 100.64.0.0/10 derived from the state dir. */
  sandboxBlock?: string;
  /** The egress CA's dir (key 0600 in a 0700 dir). @default `<stateDir>/egress-ca` */
  caDir?: string;
  /** Extra PEM CAs inspected upstreams may chain to (tests' fake internet; an operator's private CA). */
  upstreamCa?: string[];
  /** OpenSSL cipher string for the sandbox-facing side of inspected TLS. @default Node's */
  inspectCiphers?: string;
  /** Containers alive on disk, whose links a restarted server keeps. */
  liveContainerIds(): Promise<string[]>;
  onError?(err: Error): void;
}

export class ContainerEgress implements EgressFacet {
  private hooks: EgressPolicyHooks | undefined;
  private network: EgressNetwork | undefined;
  private starting: Promise<EgressNetwork> | undefined;
  private ca: Promise<{ ca: EgressCa; bundlePath: string }> | undefined;
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

  /**
   * The data path is up and the CA bundle written; returns the bundle's host
   * path. Called before a container with egress is created (its bundle binds it).
   */
  async prepare(): Promise<string> {
    await this.started();
    return (await this.openCa()).bundlePath;
  }

  private openCa(): Promise<{ ca: EgressCa; bundlePath: string }> {
    this.ca ??= (async () => {
      const dir = this.options.caDir ?? join(this.options.stateDir, "egress-ca");
      const ca = await EgressCa.open(dir);
      const roots = HOST_ROOTS.find((p) => existsSync(p));
      const bundlePath = join(dir, "bundle.pem");
      const tmp = `${bundlePath}.tmp`;
      writeFileSync(tmp, `${roots ? readFileSync(roots, "utf8") : ""}\n${ca.files.certPem}`, { mode: 0o644 });
      renameSync(tmp, bundlePath);
      return { ca, bundlePath };
    })();
    this.ca.catch(() => (this.ca = undefined));
    return this.ca;
  }

  private async inspect(client: import("node:net").Socket, peeked: Buffer, req: EgressRequest, verdict: EgressInspection): Promise<void> {
    const onRequest = verdict.onRequest ? { onRequest: verdict.onRequest.bind(verdict) } : {};
    if (!req.sni) {
      // Plain HTTP (the proxy hands over only TLS with an SNI or HTTP with a Host): no CA, no header rewriting.
      if (!req.host) return void client.destroy();
      return inspectHttp(client, peeked, { serverName: req.host, upstream: req.dst, allowRequest: (r) => verdict.allowRequest(r), ...onRequest });
    }
    const { ca } = await this.openCa();
    const leaf = await ca.leafFor(req.sni);
    inspectHttps(client, peeked, {
      serverName: req.sni,
      upstream: req.dst,
      leaf,
      allowRequest: (r) => verdict.allowRequest(r),
      ...(verdict.rewriteHeaders ? { rewriteHeaders: (h, r) => verdict.rewriteHeaders!(h, r) } : {}),
      ...onRequest,
      ...(this.options.upstreamCa?.length ? { upstreamCa: this.options.upstreamCa } : {}),
      ...(this.options.inspectCiphers ? { clientCiphers: this.options.inspectCiphers } : {}),
    });
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

  async recheck(id: string): Promise<number> {
    return this.network ? this.network.recheck(id) : 0;
  }

  async resume(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.started();
  }

  async close(): Promise<void> {
    const network = this.starting ? await this.starting.catch(() => undefined) : undefined;
    this.starting = undefined;
    this.network = undefined;
    if (!network) return;
    // Containers outlive the server: keep their links (and the table, which now refuses everything) for the next start.
    if (network.attachedCount > 0) await network.stopListeners();
    else await network.close();
  }

  private build(): EgressNetwork {
    const decide = async (req: EgressRequest): Promise<boolean | EgressInspection> => {
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
        inspect: (client, peeked, req, verdict) => this.inspect(client, peeked, req, verdict as EgressInspection),
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
