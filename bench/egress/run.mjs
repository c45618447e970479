#!/usr/bin/env node
// bench/egress — a sandbox's egress path next to a direct path, in one run
// (issue 17's goal: p50 connect overhead under 1 ms, throughput at least 0.8×):
//   - connect latency (p50/p99): a new TCP connection, one HTTP request, until
//     the first response byte;
//   - throughput (MiB/s): `GET /bytes/<n>` of zeros on a new connection;
// each measured by the same client (bench/egress/client.mjs, the host's node)
// from a sandbox's network namespace (nsenter --net: its veth, the server's
// bridge, the nftables redirect and the egress proxy, under an `http` rule for
// the name, resolved through the server's DNS) and from the host's own
// namespace straight to the same upstream. The upstream is the tests' fake
// internet (testing/fake-internet.ts): a netns on a 198.18.x address behind a
// veth; no packet leaves the machine. The two run in alternating turns so
// background load hits both alike. Bounded: --connects per side (default
// 1000), --mib per transfer (default 256), --rounds transfers per side
// (default 4). Everything is removed at the end (the sandbox env checks).
// Needs root, crun, iproute2, nftables, openssl. Uses packages/server/dist when built.
// Usage: node bench/egress/run.mjs [--connects N] [--mib N] [--rounds N]
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { codeSource, loadServer, numberArg } from "../lib/load-server.mjs";

const CONNECTS = numberArg("--connects", 1000);
const MIB = numberArg("--mib", 256);
const ROUNDS = numberArg("--rounds", 4);
const TURNS = 4;
const NAME = "bench.example.test";
const T = "bench";
const CLIENT = new URL("./client.mjs", import.meta.url).pathname;

const { startSandboxEnv, standaloneSandboxBody, BUSYBOX } = await loadServer("testing/sandbox-env");
const { startFakeInternet } = await loadServer("testing/fake-internet");
const { startTestZone } = await loadServer("testing/dns-zone");

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const med = (xs) => pct(xs, 50);
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;

/** Runs the client (optionally under a prefix such as nsenter) and returns its JSON line. */
function client(prefix, address, connects, rounds) {
  const argv = [...prefix, process.execPath, CLIENT, NAME, address, String(connects), String(MIB), String(rounds)];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${argv.join(" ")} exited ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}

let env;
let net;
let zone;
try {
  net = await startFakeInternet({ hostCount: 1, quiet: true });
  const upstream = net.hosts[0];
  // A long TTL: the resolution the proxy checks against must outlive the run.
  zone = await startTestZone({ [NAME]: [upstream] }, { ttlSec: 3600 });
  env = await startSandboxEnv({ flags: { egressDnsUpstream: [zone.server] } });
  await env.tenant(T);
  const ceiling = await env.srv.request("PUT", `/api/tenants/${T}/egress`, { body: { hosts: [NAME], ports: [80], allowAddresses: false } });
  if (ceiling.status !== 200) throw new Error(`ceiling: ${ceiling.status} ${JSON.stringify(ceiling.body)}`);
  const created = await env.srv.request("POST", `/api/tenants/${T}/sandboxes`, {
    body: standaloneSandboxBody(BUSYBOX, "egress-bench", { argv: ["sleep", "3600"] }, { network: { egress: [{ host: NAME, protocol: "http" }] } }),
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.metadata.id;
  await env.waitFor(T, id, ["ready"]);
  // The container's init pid, from crun's state (runtime/container/layout.ts: <state dir>/root).
  const state = JSON.parse(execFileSync("crun", [`--root=${join(env.srv.root, "data", "runtime", "root")}`, "state", id]).toString());
  const inSandbox = ["nsenter", `--net=/proc/${state.pid}/ns/net`];

  const direct = { connectMs: [], mibs: [] };
  const proxied = { connectMs: [], mibs: [] };
  const perTurn = Math.ceil(CONNECTS / TURNS);
  const roundsPerTurn = Math.max(1, Math.ceil(ROUNDS / TURNS));
  let seenAddress = "";
  for (let t = 0; t < TURNS; t++) {
    const d = await client([], upstream, perTurn, roundsPerTurn);
    const p = await client(inSandbox, "-", perTurn, roundsPerTurn);
    seenAddress = p.address;
    for (const [into, from] of [
      [direct, d],
      [proxied, p],
    ]) {
      into.connectMs.push(...from.connectMs);
      into.mibs.push(...from.mibs);
    }
  }
  if (seenAddress !== upstream) throw new Error(`the sandbox resolved ${NAME} to ${seenAddress}, not ${upstream}`);
  // Every proxied connection went through the proxy and is on record.
  const log = await env.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}/egress?decision=denied&limit=1`);
  if (log.body.items.length > 0) throw new Error(`denials in the bench: ${JSON.stringify(log.body.items)}`);

  console.log(`server code: ${codeSource}`);
  console.log(`egress: ${NAME} (${upstream}, the fake internet) under one http rule; ${TURNS} alternating turns per side`);
  console.log(`connect latency (new connection → first response byte), ${direct.connectMs.length} each:`);
  console.log(`  host netns, direct  p50 ${us(pct(direct.connectMs, 50))}  p99 ${us(pct(direct.connectMs, 99))}`);
  console.log(`  sandbox via proxy   p50 ${us(pct(proxied.connectMs, 50))}  p99 ${us(pct(proxied.connectMs, 99))}`);
  console.log(
    `  added p50 ${us(pct(proxied.connectMs, 50) - pct(direct.connectMs, 50))} (goal < 1000 µs), ratio p50 ${(pct(proxied.connectMs, 50) / pct(direct.connectMs, 50)).toFixed(2)}x, p99 ${(pct(proxied.connectMs, 99) / pct(direct.connectMs, 99)).toFixed(2)}x`,
  );
  console.log(`throughput (${MIB} MiB over HTTP, new connection each), median of ${direct.mibs.length}:`);
  console.log(`  host netns, direct  ${med(direct.mibs).toFixed(0)} MiB/s  (${direct.mibs.map((x) => x.toFixed(0)).join(", ")})`);
  console.log(`  sandbox via proxy   ${med(proxied.mibs).toFixed(0)} MiB/s  (${proxied.mibs.map((x) => x.toFixed(0)).join(", ")})`);
  console.log(`  ratio proxy/direct ${(med(proxied.mibs) / med(direct.mibs)).toFixed(2)} (goal ≥ 0.80)`);
} finally {
  await env?.close();
  await zone?.close();
  await net?.close();
}
