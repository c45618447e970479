// runtime/container/egress/proxy.test.ts — the proxy's bounds and failure
// handling on loopback alone (no nftables: the original destination is given by
// the test): a decide() that throws, an oversized or unreadable head, a client
// that sends nothing (server-speaks-first), the per-sandbox cap, and bytes
// passing through untouched with half-close.

import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { EgressProxy, type Decide, type EgressRequest } from "./proxy.js";

let upstream: Server;
let upstreamPort = 0;
const upstreamGot: Buffer[] = [];

before(async () => {
  // Greets first, then echoes everything back and ends when the client ends.
  upstream = createServer({ allowHalfOpen: true }, (s) => {
    s.write("hi:");
    const chunks: Buffer[] = [];
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => {
      upstreamGot.push(Buffer.concat(chunks));
      s.end(Buffer.concat(chunks));
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamPort = (upstream.address() as { port: number }).port;
});
after(() => upstream.close());

async function withProxy(
  decide: Decide,
  opts: Partial<ConstructorParameters<typeof EgressProxy>[0]>,
  body: (p: EgressProxy, errors: Error[]) => Promise<void>,
) {
  const errors: Error[] = [];
  const proxy = new EgressProxy({
    host: "127.0.0.1",
    decide,
    originalDst: () => ({ address: "127.0.0.1", port: upstreamPort }),
    onError: (e) => errors.push(e),
    ...opts,
  });
  await proxy.listen();
  try {
    await body(proxy, errors);
  } finally {
    await proxy.close();
  }
}

/** Sends `payload` (then ends, unless `keepOpen`), resolves with everything received until close. */
function exchange(port: number, payload: Buffer | string, keepOpen = false): Promise<{ data: string; socket: Socket }> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let data = "";
    s.on("connect", () => (keepOpen ? s.write(payload) : s.end(payload)));
    s.on("data", (d) => (data += d));
    s.on("end", () => s.end()); // half-open on our side only while we are still sending
    s.on("error", () => {});
    s.on("close", () => resolve({ data, socket: s }));
  });
}

test("peeked bytes and the rest pass through untouched, in both directions, with half-close", { timeout: 10_000 }, async () => {
  const seen: EgressRequest[] = [];
  await withProxy(
    (r) => (seen.push(r), true),
    {},
    async (p) => {
      const body = "GET /x HTTP/1.1\r\nHost: a.example.test\r\n\r\n" + "z".repeat(100_000);
      const { data } = await exchange(p.port, body);
      assert.equal(data, "hi:" + body);
      assert.deepEqual(
        seen.map((r) => [r.protocol, r.host, r.dst.port]),
        [["http", "a.example.test", upstreamPort]],
      );
    },
  );
});

test("a client that sends nothing is decided as tcp after the peek timeout (server-speaks-first protocols work)", { timeout: 10_000 }, async () => {
  const seen: EgressRequest[] = [];
  await withProxy(
    (r) => (seen.push(r), true),
    { peekTimeoutMs: 100 },
    async (p) => {
      const s = connect({ host: "127.0.0.1", port: p.port });
      const greeting = await new Promise<string>((resolve) => s.once("data", (d) => resolve(String(d))));
      s.destroy();
      assert.equal(greeting, "hi:");
      assert.deepEqual(
        seen.map((r) => [r.protocol, r.sni, r.host]),
        [["tcp", undefined, undefined]],
      );
    },
  );
});

test("a decide() that throws or rejects closes that connection only; the proxy keeps serving", { timeout: 10_000 }, async () => {
  let n = 0;
  await withProxy(
    () => {
      n++;
      if (n === 1) throw new Error("policy exploded");
      if (n === 2) return Promise.reject(new Error("policy rejected"));
      return true;
    },
    {},
    async (p, errors) => {
      assert.equal((await exchange(p.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")).data, "");
      assert.equal((await exchange(p.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")).data, "");
      assert.match((await exchange(p.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")).data, /^hi:GET/);
      assert.deepEqual(
        errors.map((e) => e.message),
        ["policy exploded", "policy rejected"],
      );
    },
  );
});

test("an oversized or unreadable head is refused without asking decide()", { timeout: 10_000 }, async () => {
  let asked = 0;
  await withProxy(
    () => (asked++, true),
    { maxPeekBytes: 1024, peekTimeoutMs: 300 },
    async (p) => {
      assert.equal((await exchange(p.port, "GET / HTTP/1.1\r\nX: " + "a".repeat(4096), true)).data, "", "head over the cap");
      assert.equal((await exchange(p.port, "GET / HTTP/1.1\r\nHost: a", true)).data, "", "head not complete in time");
      assert.equal((await exchange(p.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 1, 0]))).data, "", "a handshake that is not a ClientHello");
      assert.equal((await exchange(p.port, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).data, "", "two Host headers");
      assert.equal(asked, 0);
    },
  );
});

test("connections beyond the per-sandbox cap are closed at once", { timeout: 10_000 }, async () => {
  await withProxy(
    () => true,
    { maxConnectionsPerSandbox: 2 },
    async (p) => {
      const held = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<Socket>((resolve) => {
              const s = connect({ host: "127.0.0.1", port: p.port });
              s.on("error", () => {});
              s.once("data", () => resolve(s)); // spliced: the upstream greeted
              s.write("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
            }),
        ),
      );
      const third = await exchange(p.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
      assert.equal(third.data, "");
      held.forEach((s) => s.destroy());
      await new Promise((r) => setTimeout(r, 100));
      assert.match((await exchange(p.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")).data, /^hi:/, "slots are freed on close");
    },
  );
});
