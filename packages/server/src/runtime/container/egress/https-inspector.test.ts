// The HTTPS inspector on loopback: a client that trusts the egress CA talks to
// it; an upstream with a certificate from another ("public") CA answers. Allowed
// requests reach the upstream with their headers rewritten (a secret put in);
// methods, paths and a Host that differs from the SNI are refused with 403 before
// anything reaches the upstream; an upstream whose certificate the host does not
// trust gets 502.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpsRequest, createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EgressCa } from "./egress-ca.js";
import { inspectHttps, type InspectOptions } from "./https-inspector.js";

const NAME = "api.example.test";
const dir = mkdtempSync(join(tmpdir(), "nimbus-inspect-"));
let egressCa: EgressCa;
let publicCa: EgressCa;
let upstream: HttpsServer;
let upstreamPort = 0;
const seen: Array<{ method: string; url: string; authorization?: string }> = [];
const servers: Server[] = [];

before(async () => {
  egressCa = await EgressCa.open(join(dir, "egress"));
  publicCa = await EgressCa.open(join(dir, "public"), "Test public CA");
  const leaf = await publicCa.leafFor(NAME);
  upstream = createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    res.end("hello from upstream");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  upstreamPort = (upstream.address() as { port: number }).port;
});
after(async () => {
  for (const s of servers) s.close();
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A front door that peeks the first bytes and hands the socket to the inspector, as the egress proxy does. */
async function front(overrides: Partial<InspectOptions> = {}): Promise<number> {
  const leaf = await egressCa.leafFor(NAME);
  const server = createServer((sock) => {
    sock.once("data", (peeked: Buffer) => {
      sock.pause();
      inspectHttps(sock, peeked, {
        serverName: NAME,
        upstream: { address: "127.0.0.1", port: upstreamPort },
        leaf,
        upstreamCa: [publicCa.files.certPem],
        allowRequest: (r) => (r.method === "GET" && r.path.startsWith("/v1/") ? undefined : `${r.method} ${r.path} is not allowed by the rule`),
        rewriteHeaders: (headers) => headers.map(([k, v]) => [k, v.replace("nimbus-secret://OPENAI", "sk-live-123")]),
        ...overrides,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

function get(port: number, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        servername: NAME,
        ca: egressCa.files.certPem,
        method: options.method ?? "GET",
        path,
        headers: { host: options.host ?? NAME, authorization: "Bearer nimbus-secret://OPENAI" },
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("an allowed request reaches the upstream with the secret put in; the client trusted only the egress CA", async () => {
  const port = await front();
  const r = await get(port, "/v1/models");
  assert.deepEqual(r, { status: 200, body: "hello from upstream" });
  assert.deepEqual(seen.at(-1), { method: "GET", url: "/v1/models", authorization: "Bearer sk-live-123" });
});

test("a method or path the rule does not allow, or a Host that is not the SNI, is refused before the upstream", async () => {
  const port = await front();
  const before = seen.length;
  for (const [path, opts] of [
    ["/v1/models", { method: "POST" }],
    ["/v2/admin", {}],
    ["/v1/models", { host: "other.example.test" }],
  ] as const) {
    const r = await get(port, path, opts);
    assert.equal(r.status, 403, `${JSON.stringify(opts)} ${path}`);
    assert.match(r.body, /nimbus egress/);
  }
  assert.equal(seen.length, before, "nothing reached the upstream");
});

test("an upstream whose certificate the host does not trust gets 502", async () => {
  const port = await front({ upstreamCa: undefined });
  const r = await get(port, "/v1/models");
  assert.equal(r.status, 502);
  assert.match(r.body, /could not be reached or verified/);
});
