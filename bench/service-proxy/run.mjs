#!/usr/bin/env node
// bench/service-proxy — HTTP through a service's name-based proxy route next to
// direct requests to the service's published endpoint (and, as the reference, the
// same Node HTTP server run on the host without any sandbox), in one run, on loopback.
// The service runs the offline node:22 stand-in image (testing/standin.ts); every
// hop keeps connections alive, as real clients do. Sequential requests give latency
// (p50/p99), concurrent ones requests/s; the three targets alternate in rounds so
// drift hits them alike. Real crun + conmon.
// Uses packages/server/dist when built (`npm run build`), else the TypeScript sources
// through tsx. Cleans up everything it creates.
// Usage: node bench/service-proxy/run.mjs [--requests N] [--rounds N] [--concurrency N]
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { loadServer, numberArg } from "../lib/load-server.mjs";

const here = new URL(".", import.meta.url).pathname;
const server = join(here, "../../packages/server");
const requests = numberArg("--requests", 400);
const rounds = numberArg("--rounds", 5);
const concurrency = numberArg("--concurrency", 16);

const { startStandinRegistry, STANDIN_REFERENCE } = await loadServer("testing/standin");
const { startTestServer } = await loadServer("testing/server");
const { httpServiceSpec } = await loadServer("testing/service-specs");
const { assertNoLeftovers } = await loadServer("runtime/leak-check");

const BODY = "x".repeat(512);
const SERVER_JS = `const b = "x".repeat(${BODY.length}); process.on("SIGTERM", () => process.exit(0));
require("http").createServer((q, s) => { s.setHeader("content-type", "text/plain"); s.end(b); }).listen(Number(process.argv[1] || 8080));`;

/** One GET; resolves with its latency in ms. Fails on anything but 200 with the expected body length. */
function get(agent, port, path, headers) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ agent, host: "127.0.0.1", port, path, headers }, (res) => {
      let n = 0;
      res.on("data", (c) => (n += c.length));
      res.on("end", () => {
        if (res.statusCode !== 200 || n !== BODY.length) reject(new Error(`GET ${path} on ${port}: ${res.statusCode}, ${n} bytes`));
        else resolve(performance.now() - t0);
      });
    });
    req.on("error", (err) => reject(new Error(`GET ${path} on ${port}: ${err.message}`)));
    req.end();
  });
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function latency(target, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await get(target.agent, target.port, target.path, target.headers));
  return out;
}

async function throughput(target, n) {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      await get(target.agent, target.port, target.path, target.headers);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (n / (performance.now() - t0)) * 1000;
}

let registry;
let srv;
let hostServer;
try {
  registry = await startStandinRegistry();
  srv = await startTestServer({ flags: { registryMirrors: [`docker.io=${registry.url}`] } });
  await srv.request("POST", "/api/tenants", { body: { id: "bench" } });
  // publish: "host" keeps the "endpoint (forwarder)" row: ports are proxy-only by default (issue 15 #19).
  const spec = httpServiceSpec(STANDIN_REFERENCE, ["node", "-e", SERVER_JS, "8080"], { publish: "host" });
  const created = await srv.request("POST", "/api/tenants/bench/services", { body: { metadata: { name: "web" }, spec } });
  if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
  await srv.request("POST", "/api/tenants/bench/services/web/start", { body: {} });
  let view;
  for (const deadline = Date.now() + 120_000; ;) {
    view = (await srv.request("GET", "/api/tenants/bench/services/web")).body;
    if (view.lifecycleState === "ready" && view.endpoints.length) break;
    if (view.lifecycleState === "failed" || Date.now() > deadline) throw new Error(`service not ready: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // The reference: the same server on the host, no sandbox, no forwarder.
  const hostPort = 20000 + Math.floor(Math.random() * 20000);
  hostServer = spawn(process.execPath, ["-e", SERVER_JS, String(hostPort)], { stdio: "ignore" });
  for (let ok = false; !ok;) {
    ok = await get(false, hostPort, "/", {}).then(
      () => true,
      () => false,
    );
    if (!ok) await new Promise((r) => setTimeout(r, 50));
  }

  const agent = () => new Agent({ keepAlive: true, maxSockets: concurrency });
  const targets = [
    { name: "host (no sandbox)", agent: agent(), port: hostPort, path: "/", headers: {} },
    { name: "endpoint (forwarder)", agent: agent(), port: view.endpoints[0].port, path: "/", headers: {} },
    {
      name: "proxy route",
      agent: agent(),
      port: Number(new URL(srv.url).port),
      path: "/api/tenants/bench/services/web/proxy/",
      headers: { authorization: `Bearer ${srv.token()}` },
    },
  ];
  for (const t of targets) await latency(t, 50); // warm up
  const lat = new Map(targets.map((t) => [t.name, []]));
  const rps = new Map(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) lat.get(t.name).push(...(await latency(t, requests)));
    for (const t of order) rps.get(t.name).push(await throughput(t, requests));
  }
  console.log(
    `service-proxy: ${rounds} rounds × ${requests} sequential GETs (latency) and ${requests} GETs at concurrency ${concurrency} (throughput), ${BODY.length}-byte body, Node HTTP server, keep-alive`,
  );
  console.log(`${"target".padEnd(26)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);
  for (const t of targets) {
    const xs = lat.get(t.name);
    const best = Math.max(...rps.get(t.name));
    console.log(`${t.name.padEnd(26)} ${best.toFixed(0).padStart(8)} ${pct(xs, 50).toFixed(3).padStart(8)} ${pct(xs, 99).toFixed(3).padStart(8)}`);
  }
  const p50 = (name) => pct(lat.get(name), 50);
  console.log(
    `the proxy adds ${(p50("proxy route") - p50("endpoint (forwarder)")).toFixed(3)} ms p50 over the endpoint (goal: < 1 ms); the forwarder adds ${(p50("endpoint (forwarder)") - p50("host (no sandbox)")).toFixed(3)} ms p50 over a host process`,
  );
  for (const t of targets) t.agent.destroy();
  await srv.request("DELETE", "/api/tenants/bench");
} finally {
  hostServer?.kill();
  await srv?.stop();
  if (srv) await assertNoLeftovers(join(srv.root, "data", "runtime"));
  await srv?.close();
  await registry?.stop();
}
