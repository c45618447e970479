// The egress DNS responder against a test zone on loopback: allowed names
// resolve (and are reported for the proxy), cached for their TTL; every other
// name is NXDOMAIN at once, even while the upstream never answers; TCP works;
// garbage gets no answer and breaks nothing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { connect } from "node:net";
import dnsPacket from "dns-packet";
import { DnsResponder, type DnsPolicy } from "./dns-responder.js";
import { startTestZone, type TestZone } from "../../../testing/dns-zone.js";

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function setup(zone: TestZone, allowed: string[]) {
  const resolved: Array<[string, string, string[]]> = [];
  const policy: DnsPolicy = {
    allows: (client, name) => client === "127.0.0.1" && allowed.includes(name),
    resolved: (client, name, addresses) => resolved.push([client, name, addresses]),
  };
  const responder = new DnsResponder({ host: "127.0.0.1", upstream: [zone.server], policy, timeoutMs: 3_000 });
  await responder.start();
  closers.push(() => responder.close());
  const client = new Resolver({ timeout: 5_000, tries: 1 });
  client.setServers([`127.0.0.1:${responder.port}`]);
  return { responder, client, resolved };
}

test("an allowed name resolves through the upstream, is reported, and is cached for its TTL", async () => {
  const zone = await startTestZone({ "api.example.test": ["198.18.0.10"] });
  closers.push(() => zone.close());
  const { client, resolved } = await setup(zone, ["api.example.test"]);
  assert.deepEqual(await client.resolve4("api.example.test"), ["198.18.0.10"]);
  assert.deepEqual(await client.resolve4("API.example.test"), ["198.18.0.10"]);
  assert.deepEqual(resolved[0], ["127.0.0.1", "api.example.test", ["198.18.0.10"]]);
  assert.equal(zone.queries.filter((q) => q.startsWith("A ")).length, 1, "the second answer came from the cache");
});

test("a name the policy does not allow is NXDOMAIN at once, without asking the upstream", async () => {
  const zone = await startTestZone({}, { silent: true });
  closers.push(() => zone.close());
  const { client } = await setup(zone, ["api.example.test"]);
  const t0 = performance.now();
  await assert.rejects(client.resolve4("evil.example.test"), (e: NodeJS.ErrnoException) => e.code === "ENOTFOUND");
  const ms = performance.now() - t0;
  assert.ok(ms < 50, `NXDOMAIN took ${ms.toFixed(1)} ms`);
  assert.deepEqual(zone.queries, []);
});

test("an allowed name the upstream does not know is NXDOMAIN too; other types of it get an empty answer", async () => {
  const zone = await startTestZone({ "known.example.test": ["198.18.0.11"] });
  closers.push(() => zone.close());
  const { client } = await setup(zone, ["gone.example.test", "known.example.test"]);
  await assert.rejects(client.resolve4("gone.example.test"), (e: NodeJS.ErrnoException) => e.code === "ENOTFOUND");
  await assert.rejects(client.resolveTxt("known.example.test"), (e: NodeJS.ErrnoException) => e.code === "ENODATA");
});

test("queries over TCP are answered; garbage over UDP gets no answer and breaks nothing", async () => {
  const zone = await startTestZone({ "api.example.test": ["198.18.0.10"] });
  closers.push(() => zone.close());
  const { responder, client } = await setup(zone, ["api.example.test"]);
  const udp = createSocket("udp4");
  await new Promise<void>((r) => udp.send(Buffer.from("not dns at all"), responder.port, "127.0.0.1", () => r()));
  udp.close();
  const query = dnsPacket.encode({
    type: "query",
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: "A", class: "IN", name: "api.example.test" }],
  });
  const framed = Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]);
  const answer = await new Promise<dnsPacket.Packet>((resolve, reject) => {
    const s = connect(responder.port, "127.0.0.1", () => s.write(framed));
    let buf = Buffer.alloc(0);
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)));
      }
    });
    s.on("error", reject);
  });
  assert.equal(answer.id, 7);
  assert.deepEqual(
    answer.answers?.map((a) => (a as { data: string }).data),
    ["198.18.0.10"],
  );
  assert.deepEqual(await client.resolve4("api.example.test"), ["198.18.0.10"], "still answering after the garbage");
});
