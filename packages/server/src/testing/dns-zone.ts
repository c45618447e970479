/**
 * A test DNS zone: an authoritative server on loopback (UDP) that answers A
 * records from a map and NXDOMAIN for every other name, built with dns-packet.
 * It stands in for "the internet's DNS" in egress tests; it counts queries so a
 * test can tell a cached answer from a forwarded one. `silent: true` makes it
 * never answer (an upstream that times out).
 */
import { createSocket } from "node:dgram";
import dnsPacket from "dns-packet";

export interface TestZone {
  /** `127.0.0.1:<port>`, for a resolver's server list. */
  server: string;
  queries: string[];
  close(): Promise<void>;
}

export async function startTestZone(records: Record<string, string[]>, options: { ttlSec?: number; silent?: boolean } = {}): Promise<TestZone> {
  const sock = createSocket("udp4");
  const queries: string[] = [];
  sock.on("message", (msg, rinfo) => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    queries.push(`${question.type} ${question.name}`);
    if (options.silent) return;
    const addresses = question.type === "A" ? records[question.name.toLowerCase()] : undefined;
    const known = question.name.toLowerCase() in records;
    const answers = (addresses ?? []).map((data): dnsPacket.Answer => ({ name: question.name, type: "A", class: "IN", ttl: options.ttlSec ?? 60, data }));
    const out = dnsPacket.encode({ type: "response", id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3), questions: q.questions, answers });
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  return {
    server: `127.0.0.1:${sock.address().port}`,
    queries,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
