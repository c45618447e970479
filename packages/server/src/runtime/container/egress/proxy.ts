// runtime/container/egress/proxy.ts — the transparent TCP proxy every sandbox
// connection is redirected to. Per connection: the original destination (from
// conntrack, SO_ORIGINAL_DST), then a bounded peek at the first bytes for the
// TLS SNI or the HTTP Host, then the caller's decide() says whether to splice the
// connection to that destination (the peeked bytes go first, untouched; TLS is
// never terminated here) or close it. The policy is not here: decide() is.
// Bounded everywhere: peek time and size, connections per sandbox; a failure of
// one connection (or of decide) closes that connection and nothing else.

import { connect, createServer, type Server, type Socket } from "node:net";
import { loadNative } from "@nimbus/native";
import { looksLikeTls, parseClientHelloSni, type PeekResult } from "./client-hello.js";
import { looksLikeHttp, parseHttpHost } from "./http-host.js";

export type EgressProtocol = "tls" | "http" | "tcp";

export interface EgressRequest {
  /** The sandbox's address (the connection's source). */
  sandboxAddress: string;
  /** Where the sandbox was connecting to. */
  dst: { address: string; port: number };
  sni?: string;
  host?: string;
  /** What the first bytes were: a ClientHello, an HTTP/1.x request head, or anything else (or nothing within the peek time). */
  protocol: EgressProtocol;
}

/** false: close; true: splice; an object: hand the connection to `inspect` with it (TLS with an SNI, HTTP with a Host). */
export type Decide = (req: EgressRequest) => boolean | object | Promise<boolean | object>;

/** Takes over an accepted connection (with the bytes already peeked) for a verdict that asks for inspection: TLS with an SNI, or HTTP with a Host. */
export type Inspect = (client: Socket, peeked: Buffer, req: EgressRequest, verdict: object) => void | Promise<void>;

/** An allowed connection closed: what it carried (for the decision log). */
export type Finished = (req: EgressRequest, traffic: { bytesUp: number; bytesDown: number; durationMs: number }) => void;

export interface ProxyOptions {
  /** Address to listen on (the bridge's). */
  host: string;
  /** 0 = any free port; read `port` after listen(). */
  port?: number;
  decide: Decide;
  finished?: Finished;
  inspect?: Inspect;
  /** How long to wait for the first bytes before deciding on what has arrived. */
  peekTimeoutMs?: number;
  /** Most bytes read before deciding (a ClientHello or request head larger than this is refused). */
  maxPeekBytes?: number;
  maxConnectionsPerSandbox?: number;
  connectTimeoutMs?: number;
  /** For tests and logs; errors never propagate beyond the connection. */
  onError?: (err: Error, req?: Partial<EgressRequest>) => void;
  /** Override for tests of the proxy alone (no nftables): where a connection was going. */
  originalDst?: (socket: Socket) => { address: string; port: number };
}

export class EgressProxy {
  private server: Server | undefined;
  private readonly perSandbox = new Map<string, number>();
  private readonly open = new Set<Socket>();
  /** Connections past decide (spliced or inspected), for recheck(). */
  private readonly decided = new Map<Socket, { req: EgressRequest; inspected: boolean }>();
  readonly options: Required<Omit<ProxyOptions, "onError" | "originalDst" | "port" | "finished" | "inspect">> & ProxyOptions;

  constructor(options: ProxyOptions) {
    this.options = { peekTimeoutMs: 1_000, maxPeekBytes: 16 * 1024, maxConnectionsPerSandbox: 256, connectTimeoutMs: 10_000, ...options };
  }

  get port(): number {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("the egress proxy is not listening");
    return a.port;
  }

  async listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.accept(s));
    server.on("error", (err) => this.options.onError?.(err));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.options.host, port: this.options.port ?? 0 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Stops accepting and closes every open connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.open) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Asks `decide` again for every open connection of `sandboxAddress` (its
   * rules changed) and closes those it no longer allows as they were allowed
   * (a splice needs `true`, an inspected connection an inspection). Returns how many closed.
   */
  async recheck(sandboxAddress: string): Promise<number> {
    let closed = 0;
    for (const [client, { req, inspected }] of [...this.decided]) {
      if (req.sandboxAddress !== sandboxAddress || client.destroyed) continue;
      let verdict: boolean | object = false;
      try {
        verdict = await this.options.decide(req);
      } catch (err) {
        this.options.onError?.(err as Error, req);
      }
      const still = inspected ? typeof verdict === "object" && verdict !== null : verdict === true;
      if (!still) {
        client.destroy();
        closed++;
      }
    }
    return closed;
  }

  private track(s: Socket): void {
    this.open.add(s);
    s.once("close", () => this.open.delete(s));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.on("error", () => {}); // resets from the sandbox are routine
    const sandboxAddress = (client.remoteAddress ?? "").replace(/^::ffff:/, "");
    const count = this.perSandbox.get(sandboxAddress) ?? 0;
    if (count >= this.options.maxConnectionsPerSandbox) {
      client.destroy();
      return;
    }
    this.perSandbox.set(sandboxAddress, count + 1);
    client.once("close", () => {
      const n = (this.perSandbox.get(sandboxAddress) ?? 1) - 1;
      if (n <= 0) this.perSandbox.delete(sandboxAddress);
      else this.perSandbox.set(sandboxAddress, n);
    });
    this.handle(client, sandboxAddress).catch((err: Error) => {
      this.options.onError?.(err, { sandboxAddress });
      client.destroy();
    });
  }

  private async handle(client: Socket, sandboxAddress: string): Promise<void> {
    const dst = this.options.originalDst ? this.options.originalDst(client) : originalDst(client);
    const peeked = await this.peek(client);
    if (!peeked) {
      client.destroy(); // the client went away, or sent a head we will not parse
      return;
    }
    const req: EgressRequest = { sandboxAddress, dst, protocol: peeked.protocol };
    if (peeked.protocol === "tls" && peeked.value) req.sni = peeked.value;
    if (peeked.protocol === "http" && peeked.value) req.host = peeked.value;
    let verdict: boolean | object = false;
    try {
      verdict = await this.options.decide(req);
    } catch (err) {
      this.options.onError?.(err as Error, req);
    }
    if (typeof verdict === "object" && verdict !== null && !client.destroyed) {
      // Inspection is for TLS with a name or HTTP with a Host only: anything else asking for it is closed, never spliced unchecked.
      if (((req.protocol === "tls" && req.sni) || (req.protocol === "http" && req.host)) && this.options.inspect) {
        this.decided.set(client, { req, inspected: true });
        client.once("close", () => this.decided.delete(client));
        return this.options.inspect(client, peeked.bytes, req, verdict);
      }
      client.destroy();
      return;
    }
    const allowed = verdict === true;
    if (!allowed || client.destroyed) {
      client.destroy();
      return;
    }
    const t0 = performance.now();
    this.decided.set(client, { req, inspected: false });
    client.once("close", () => this.decided.delete(client));
    const traffic = await this.splice(client, peeked.bytes, dst);
    try {
      this.options.finished?.(req, { ...traffic, durationMs: Math.round(performance.now() - t0) });
    } catch (err) {
      this.options.onError?.(err as Error, req);
    }
  }

  /** Reads until the protocol's head is complete, the size cap, or the peek timeout. undefined: refuse. */
  private peek(client: Socket): Promise<{ bytes: Buffer; protocol: EgressProtocol; value?: string } | undefined> {
    return new Promise((resolve) => {
      let bytes = Buffer.alloc(0);
      const finish = (r: { bytes: Buffer; protocol: EgressProtocol; value?: string } | undefined) => {
        clearTimeout(timer);
        client.off("data", onData);
        client.off("end", onEnd);
        client.off("close", onEnd);
        client.pause();
        resolve(r);
      };
      const classify = (final: boolean) => {
        let parsed: PeekResult | undefined;
        let protocol: EgressProtocol = "tcp";
        if (looksLikeTls(bytes)) {
          protocol = "tls";
          parsed = parseClientHelloSni(bytes);
        } else if (looksLikeHttp(bytes)) {
          protocol = "http";
          parsed = parseHttpHost(bytes);
        }
        if (!parsed) return finish({ bytes, protocol: "tcp" }); // not a protocol we read: decide on the address alone
        if (parsed.state === "invalid") return finish(undefined);
        if (parsed.state === "done") return finish({ bytes, protocol, value: parsed.value });
        // need-more: past the cap or out of time, a head we cannot read is refused, not guessed at.
        if (final || bytes.length >= this.options.maxPeekBytes) return finish(undefined);
      };
      const onData = (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        classify(false);
      };
      const onEnd = () => finish(undefined);
      // Nothing within the timeout: a server-speaks-first protocol; decide on the address alone.
      const timer = setTimeout(() => (bytes.length === 0 ? finish({ bytes, protocol: "tcp" }) : classify(true)), this.options.peekTimeoutMs);
      client.on("data", onData);
      client.once("end", onEnd);
      client.once("close", onEnd);
      client.resume();
    });
  }

  private splice(client: Socket, first: Buffer, dst: { address: string; port: number }): Promise<{ bytesUp: number; bytesDown: number }> {
    return new Promise((resolve) => {
      const upstream = connect({ host: dst.address, port: dst.port, allowHalfOpen: true });
      this.track(upstream);
      const timer = setTimeout(() => upstream.destroy(new Error(`connect to ${dst.address}:${dst.port} timed out`)), this.options.connectTimeoutMs);
      upstream.once("connect", () => {
        clearTimeout(timer);
        if (first.length > 0) upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      const closeBoth = () => {
        clearTimeout(timer);
        client.destroy();
        upstream.destroy();
        resolve({ bytesUp: upstream.bytesWritten, bytesDown: client.bytesWritten });
      };
      upstream.on("error", closeBoth);
      client.on("error", closeBoth);
      // Both directions ended (half-close passes through pipe's end()): done.
      upstream.once("close", closeBoth);
      client.once("close", closeBoth);
    });
  }
}

/** The original destination of a redirected connection, from the kernel (conntrack). */
export function originalDst(socket: Socket): { address: string; port: number } {
  // Node keeps the descriptor on the socket's internal handle; it has no public accessor.
  const handle: unknown = Reflect.get(socket, "_handle");
  const fd = typeof handle === "object" && handle !== null && "fd" in handle ? handle.fd : undefined;
  if (typeof fd !== "number" || fd < 0) throw new Error("the accepted socket has no file descriptor");
  const d = loadNative().getOriginalDst(fd);
  return { address: d.address, port: d.port };
}
