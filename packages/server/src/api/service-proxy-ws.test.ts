/**
 * The proxy route passes upgrades through (Services: "forwards HTTP and
 * WebSocket upgrades"): a WebSocket server inside a service, on real crun +
 * conmon with the offline node:22 stand-in image, is reached by name; the
 * handshake is the service's own; a stopped service refuses with the 503
 * envelope; nothing is left on the host.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import WebSocket from "ws";
import { startStandinRegistry, STANDIN_REFERENCE } from "../testing/standin.js";
import { startTestServer, type TestServer } from "../testing/server.js";
import type { TestRegistry } from "../testing/registry.js";
import { closeCheckingLeftovers } from "../testing/server-leak-check.js";
import { forwarderPids } from "../runtime/container/port-forward.js";
import { until } from "../testing/until.js";
import { httpServiceSpec } from "../testing/service-specs.js";

let registry: TestRegistry;
let srv: TestServer;

// A WebSocket echo in plain Node (small unfragmented text frames are all this test sends).
const ECHO_JS = `process.on("SIGTERM", () => process.exit(0));
const http = require("http"), crypto = require("crypto");
http.createServer((q, s) => s.end("http-ok " + q.url)).on("upgrade", (req, s) => {
  const accept = crypto.createHash("sha1").update(req.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  s.write("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nX-Echo-Path: " + req.url + "\\r\\nSec-WebSocket-Accept: " + accept + "\\r\\n\\r\\n");
  s.on("data", (b) => {
    if ((b[0] & 15) === 8) return s.end(Buffer.from([0x88, 0]));
    const len = b[1] & 127, mask = b.subarray(2, 6);
    const text = Buffer.from(b.subarray(6, 6 + len).map((x, i) => x ^ mask[i % 4]));
    const out = Buffer.concat([Buffer.from("echo:"), text]);
    s.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
  });
}).listen(8080);`;

before(async () => {
  registry = await startStandinRegistry();
  srv = await startTestServer({ flags: { registryMirrors: [`docker.io=${registry.url}`] } });
  assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "ws" } })).status, 201);
});
after(async () => {
  try {
    await closeCheckingLeftovers(srv, ["ws"], (s) => assert.deepEqual(forwarderPids(join(s.root, "data", "endpoints")), []));
  } finally {
    await registry?.stop();
  }
});

function open(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("upgrade", (res) => ws.once("open", () => resolve({ ws, headers: res.headers })));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
  });
}

test("a WebSocket inside a service is reached by name through the proxy route", async () => {
  const spec = httpServiceSpec(STANDIN_REFERENCE, ["node", "-e", ECHO_JS]);
  assert.equal((await srv.request("POST", "/api/tenants/ws/services", { body: { metadata: { name: "echo" }, spec } })).status, 201);
  await srv.request("POST", "/api/tenants/ws/services/echo/start", { body: {} });
  await until(
    "the service",
    async () => (await srv.request("GET", "/api/tenants/ws/services/echo")).body,
    (v) => v.lifecycleState === "ready" || v.lifecycleState === "failed",
    120_000,
  );

  const base = `${srv.url.replace(/^http/, "ws")}/api/tenants/ws/services/echo/proxy`;
  const auth = { authorization: `Bearer ${srv.token()}` };
  const { ws, headers } = await open(`${base}/chat?room=1`, auth);
  assert.equal(headers["x-echo-path"], "/chat?room=1", "the service answered the handshake for the proxied path");
  const reply = new Promise<string>((resolve) => ws.once("message", (m) => resolve(m.toString())));
  ws.send("ping");
  assert.equal(await reply, "echo:ping");
  ws.close();

  assert.equal((await srv.request("GET", "/api/tenants/ws/services/echo/proxy/plain")).body, "http-ok /plain");
  await assert.rejects(open(`${base}/chat`, {}), (e: { status?: number }) => e.status === 401);

  await srv.request("POST", "/api/tenants/ws/services/echo/stop", { body: { gracePeriodMs: 1000 } });
  await assert.rejects(
    open(`${base}/chat`, auth),
    (e: { status?: number; body?: string }) => e.status === 503 && JSON.parse(e.body!).error.code === "service.unavailable",
  );
  assert.equal((await srv.request("DELETE", "/api/tenants/ws/services/echo?ifMatchGeneration=1")).status, 204);
});
