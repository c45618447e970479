// runtime/container/egress/client-hello.test.ts — the SNI and Host readers on
// real ClientHellos (made by Node's TLS client), every truncation of them, and
// random or mutated bytes: they must answer, never throw or hang.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { connect } from "node:tls";
import { test } from "node:test";
import { parseClientHelloSni } from "./client-hello.js";
import { parseHttpHost } from "./http-host.js";

/** The first bytes Node's TLS client sends for `servername` (captured on a loopback listener). */
async function clientHello(servername?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => {
      let got = Buffer.alloc(0);
      s.on("data", (d) => {
        got = Buffer.concat([got, d]);
        if (parseClientHelloSni(got).state !== "need-more" || got.length > 4096) {
          resolve(got);
          s.destroy();
          server.close();
        }
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      const c = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
      c.on("error", () => {});
      setTimeout(() => reject(new Error("no ClientHello")), 3000).unref();
    });
  });
}

test("reads the SNI of a real ClientHello, and none when the client sent none", async () => {
  assert.deepEqual(parseClientHelloSni(await clientHello("Api.Example.test")), { state: "done", value: "api.example.test" });
  assert.deepEqual(parseClientHelloSni(await clientHello(undefined)), { state: "done" });
});

test("every truncation of a ClientHello asks for more; none throws", async () => {
  const hello = await clientHello("api.example.test");
  for (let n = 0; n < hello.length; n++) assert.deepEqual(parseClientHelloSni(hello.subarray(0, n)), { state: "need-more" }, `at ${n}`);
});

test("a ClientHello split over two handshake records is reassembled", async () => {
  const hello = await clientHello("split.example.test");
  const body = hello.subarray(5);
  const record = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 255]), b]);
  const split = Buffer.concat([record(body.subarray(0, 40)), record(body.subarray(40))]);
  assert.deepEqual(parseClientHelloSni(split), { state: "done", value: "split.example.test" });
});

test("random and mutated input never throws", async () => {
  const hello = await clientHello("fuzz.example.test");
  for (let i = 0; i < 20_000; i++) {
    const b = i % 2 === 0 ? randomBytes(Math.floor(Math.random() * 600)) : Buffer.from(hello);
    if (i % 2 === 1) for (let k = 0; k < 1 + (i % 5); k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
    if (i % 4 === 0) b[0] = 0x16;
    const r = parseClientHelloSni(b);
    assert.ok(["need-more", "invalid", "done"].includes(r.state));
    if (r.state === "done" && r.value !== undefined) assert.match(r.value, /^[a-z0-9.-]+$/);
    parseHttpHost(b);
  }
});

test("the HTTP Host: port stripped, lower-cased; two Host headers or a bad request line are refused", () => {
  const h = (s: string) => parseHttpHost(Buffer.from(s));
  assert.deepEqual(h("GET / HTTP/1.1\r\nHost: API.example.test:8080\r\nX: y\r\n\r\n"), { state: "done", value: "api.example.test" });
  assert.deepEqual(h("GET / HTTP/1.1\r\nHost: a.test\r\n"), { state: "need-more" });
  assert.deepEqual(h("GET / HTTP/1.1\r\nHost: a.test\r\nhost: b.test\r\n\r\n"), { state: "invalid" });
  assert.deepEqual(h("GET /\r\nHost: a.test\r\n\r\n"), { state: "invalid" });
  assert.deepEqual(h("GET / HTTP/1.0\r\n\r\n"), { state: "done" });
  assert.deepEqual(h("GET / HTTP/1.1\r\nHost: a.test/evil\r\n\r\n"), { state: "invalid" });
});
