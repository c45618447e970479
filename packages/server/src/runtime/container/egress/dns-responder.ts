// runtime/container/egress/dns-responder.ts — the DNS server sandboxes with
// egress rules talk to (their UDP and TCP 53 is redirected here). Names the
// sandbox's policy allows are resolved through the host's (or a configured)
// upstream resolver, cached for their TTL; every other name gets NXDOMAIN at
// once, so a denied lookup never waits for a timeout. Each answer is reported
// to the policy (`resolved`), because the egress proxy later lets a connection
// through only to an address the name resolved to for that sandbox.
// Packets are parsed and built with dns-packet (a maintained library), never
// by hand. Only A is resolved: sandboxes have no IPv6 egress, so AAAA and other
// types of an allowed name get an empty answer (NOERROR, no records) and
// clients go straight to IPv4 instead of timing out on IPv6 first.

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { createServer, type Server, type Socket } from "node:net";
import dnsPacket from "dns-packet";

export interface DnsPolicy {
  /** Whether the sandbox at address `client` may resolve `name` (false for an address no sandbox has). */
  allows(client: string, name: string): boolean;
  /** `name` resolved to `addresses` for `client`, valid for ttlSec. */
  resolved?(client: string, name: string, addresses: string[], ttlSec: number): void;
  /** Every query and what was answered, for the decision log. */
  queried?(client: string, name: string, type: string, answer: "allowed" | "nxdomain" | "error"): void;
}

export interface DnsResponderOptions {
  /** The address to listen on (the sandbox bridge's). */
  host: string;
  /** @default 0 (any free port; see `port` after start) */
  port?: number;
  /** Upstream resolvers (`addr` or `addr:port`). @default the host's (/etc/resolv.conf) */
  upstream?: string[];
  policy: DnsPolicy;
  /** Upstream answer timeout. @default 2000 */
  timeoutMs?: number;
  /** Cached answers kept at most. @default 10000 */
  cacheEntries?: number;
  /** Upstream queries in flight per client before it gets SERVFAIL. @default 32 */
  maxInflightPerClient?: number;
}

type Question = dnsPacket.Question;
interface CacheEntry {
  addresses: string[];
  ttlSec: number;
  expiresAtMs: number;
}

const NXDOMAIN = "NXDOMAIN";
const SERVFAIL = "SERVFAIL";
/** The cap of a TCP-framed query: DNS messages are at most 64 KiB; a query is far smaller. */
const MAX_TCP_QUERY_BYTES = 4096;
const TCP_IDLE_MS = 10_000;

export class DnsResponder {
  private udp?: UdpSocket;
  private tcp?: Server;
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, number>();
  private boundPort = 0;

  constructor(private readonly options: DnsResponderOptions) {
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 2_000, tries: 1 });
    if (options.upstream?.length) this.resolver.setServers(options.upstream);
  }

  /** The port both listeners are bound to. */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const udp = createSocket({ type: this.options.host.includes(":") ? "udp6" : "udp4" });
    udp.on("message", (msg, rinfo) => void this.onUdp(msg, rinfo));
    udp.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(this.options.port ?? 0, this.options.host, () => resolve());
    });
    const port = udp.address().port;
    const tcp = createServer((s) => this.onTcp(s));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, this.options.host, () => resolve());
      });
    } catch (err) {
      udp.close(); // a failed start holds nothing
      throw err;
    }
    this.udp = udp;
    this.boundPort = port;
    this.tcp = tcp;
  }

  async close(): Promise<void> {
    this.udp?.close();
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    this.udp = undefined;
    this.tcp = undefined;
  }

  /** The answer to one query message, or undefined for a message that is not a query worth answering. */
  async answer(message: Buffer, client: string): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined; // not DNS: no answer, as a resolver would do
    }
    if (query.type !== "query") return undefined;
    const question = query.questions?.[0];
    if (!question) return this.reply(query, "FORMERR", []);
    const name = question.name.toLowerCase().replace(/\.$/, "");
    if (!this.options.policy.allows(client, name)) {
      this.options.policy.queried?.(client, name, question.type, "nxdomain");
      return this.reply(query, NXDOMAIN, []);
    }
    const qtype = question.type;
    if (qtype !== "A") {
      this.options.policy.queried?.(client, name, qtype, "allowed");
      return this.reply(query, "NOERROR", []);
    }
    const used = this.inflight.get(client) ?? 0;
    if (used >= (this.options.maxInflightPerClient ?? 32)) return this.reply(query, SERVFAIL, []);
    this.inflight.set(client, used + 1);
    try {
      const entry = await this.lookup(name, qtype);
      this.options.policy.queried?.(client, name, qtype, "allowed");
      if (entry.addresses.length > 0) this.options.policy.resolved?.(client, name, entry.addresses, entry.ttlSec);
      return this.reply(
        query,
        "NOERROR",
        entry.addresses.map((data): dnsPacket.Answer => ({ name: question.name, type: qtype, class: "IN", ttl: entry.ttlSec, data })),
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.options.policy.queried?.(client, name, qtype, code === "ENOTFOUND" ? "nxdomain" : "error");
      return this.reply(query, code === "ENOTFOUND" ? NXDOMAIN : code === "ENODATA" ? "NOERROR" : SERVFAIL, []);
    } finally {
      const left = (this.inflight.get(client) ?? 1) - 1;
      if (left === 0) this.inflight.delete(client);
      else this.inflight.set(client, left);
    }
  }

  private async lookup(name: string, type: "A"): Promise<CacheEntry> {
    const key = `${type} ${name}`;
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.expiresAtMs > now) return { ...hit, ttlSec: Math.max(1, Math.floor((hit.expiresAtMs - now) / 1000)) };
    const records = await this.resolver.resolve4(name, { ttl: true });
    const ttlSec = Math.max(1, Math.min(...records.map((r) => r.ttl), 3600));
    const entry = { addresses: records.map((r) => r.address), ttlSec, expiresAtMs: now + ttlSec * 1000 };
    if (this.cache.size >= (this.options.cacheEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, entry);
    return entry;
  }

  private reply(query: dnsPacket.Packet, rcode: string, answers: dnsPacket.Answer[]): Buffer {
    return dnsPacket.encode({
      type: "response",
      id: query.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcodeFlag(rcode),
      questions: query.questions as Question[],
      answers,
    });
  }

  private async onUdp(msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const out = await this.answer(msg, rinfo.address);
    if (out && this.udp) this.udp.send(out, rinfo.port, rinfo.address);
  }

  /** TCP DNS: each message is preceded by its 2-byte length (RFC 1035 §4.2.2). */
  private onTcp(sock: Socket): void {
    let buf = Buffer.alloc(0);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on("error", () => undefined);
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_TCP_QUERY_BYTES + 2) return void sock.destroy();
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(msg, sock.remoteAddress ?? "").then((out) => {
          if (!out || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          sock.write(Buffer.concat([head, out]));
        });
      }
    });
  }
}

/** dns-packet takes the response code in the low flag bits. */
function rcodeFlag(rcode: string): number {
  return { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 }[rcode] ?? 2;
}
