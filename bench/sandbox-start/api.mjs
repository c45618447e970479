#!/usr/bin/env node
// bench/sandbox-start/api.mjs — acceptance point 6 of the Sandboxes issue, in one run:
//   1. create → ready through the HTTP API for an image already present (p50, p90):
//      POST /api/tenants/{t}/sandboxes, then the tenant's NDJSON event stream
//      GET …/events?kind=sandbox&id=<id> (opened after the POST answers, then one
//      GET of the sandbox so no transition is missed — what the SDK's wait does)
//      until status.lifecycleState is "ready"; stop+delete outside the timed part;
//   2. next to the raw floor as the issue defines it, "raw crun from overlay mount
//      to a running process": mount(2) of the same image's layers + config.json
//      (the config the server writes) + `crun run --detach`, interleaved with the
//      API runs in the same process; `crun run` alone is printed beside it;
//   3. next to `podman run -d` when podman is installed;
//   4. 20 concurrent creates (all ready, wall) next to 20 concurrent raw crun runs;
//   5. host memory per idle sandbox beyond its own processes (conmon PSS + the
//      server's RSS growth, from /proc/<pid>/smaps_rollup).
// It starts its own loopback registry (Debian's docker-registry) with the busybox
// fixture as docker.io/library/busybox and an in-process server with the real
// crun + conmon runtime, and removes everything at the end (leak-checked).
// Run as root from the repo root, after `npm run build` (else it uses tsx):
//   node bench/sandbox-start/api.mjs [--runs 30] [--concurrent 20] [--rounds 4] [--idle 10]

import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { RawRuntime, codeSource, conmonPid, fmtMs, loadServer, memoryOf, pct, run, sum, timed } from "./measure.mjs";
import { PODMAN_RUN_LIMITS, podmanGlobalArgs, removePodmanCgroupParents } from "../lib/podman.mjs";

// Bounded: at most 200 runs, 10 rounds, and 60 sandboxes at once (the tenant quota is 64).
const arg = (name, dflt, max) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? NaN : Number(process.argv[i + 1]);
  return Number.isInteger(v) && v > 0 ? Math.min(v, max) : dflt;
};
const RUNS = arg("runs", 30, 200);
const CONCURRENT = arg("concurrent", 20, 60);
const ROUNDS = arg("rounds", 4, 10);
const IDLE = arg("idle", 10, 60);
const TENANT = "bench";
const READY_TIMEOUT_MS = 60_000;
const ARGV = ["sleep", "100000"];

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");

const { startSandboxEnv, standaloneSandboxBody, BUSYBOX } = await loadServer("testing/sandbox-env");
const { resolveProcess } = await loadServer("domain/process-resolve");
const { clampResources } = await loadServer("domain/sandbox-spec");
const { findBinary } = await loadServer("runtime/container/exec");

const work = mkdtempSync(join(tmpdir(), "nimbus-bench-start-"));
const log = (line) => process.stderr.write(`# ${line}\n`);
let env;
let raw;
let podman;
const live = new Set();

// ---------------------------------------------------------------- HTTP client
const auth = () => ({ authorization: `Bearer ${env.srv.token()}` });
async function call(method, path, body) {
  const res = await fetch(env.srv.url + path, {
    method,
    headers: { ...auth(), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const createBody = (name) => standaloneSandboxBody(BUSYBOX, name, { argv: ARGV });

function settle(resource) {
  const s = resource.status.lifecycleState;
  if (s === "ready") return true;
  if (["failed", "stopped", "stopping"].includes(s)) throw new Error(`sandbox ${resource.metadata.id} ended ${s}: ${resource.status.message}`);
  return false;
}

/** Follows the event stream until the sandbox is ready; resolves with its resource. */
async function waitReadyByEvents(id) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`sandbox ${id} not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  try {
    const res = await fetch(`${env.srv.url}/api/tenants/${TENANT}/events?kind=sandbox&id=${id}`, { headers: auth(), signal: ac.signal });
    if (res.status !== 200) throw new Error(`events: ${res.status} ${await res.text()}`);
    const current = await call("GET", `/api/tenants/${TENANT}/sandboxes/${id}`);
    if (current.status !== 200) throw new Error(`GET sandbox: ${current.status} ${JSON.stringify(current.body)}`);
    if (settle(current.body)) return current.body;
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (line.type !== "sandbox" || line.resource?.metadata?.id !== id) continue;
        if (line.action === "deleted") throw new Error(`sandbox ${id} was deleted while waiting`);
        if (settle(line.resource)) return line.resource;
      }
    }
    throw new Error(`the event stream for ${id} ended before ready`);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/** Polls GET every 5 ms until the sandbox is ready. */
async function waitReadyByPolling(id) {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const r = await call("GET", `/api/tenants/${TENANT}/sandboxes/${id}`);
    if (r.status !== 200) throw new Error(`GET sandbox: ${r.status} ${JSON.stringify(r.body)}`);
    if (settle(r.body)) return r.body;
    if (performance.now() > deadline) throw new Error(`sandbox ${id} not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// Profiling: the server runs in this process, so an in-process subscriber to its
// event bus sees each state change the moment the store recorded it.
const published = new Map(); // id -> { pending?, starting, ready } (performance.now())
function watchTransitions() {
  env.srv.server.parts.events.subscribe(TENANT, (e) => {
    if (e.type !== "sandbox" || e.action !== "updated") return;
    const marks = published.get(e.key) ?? {};
    marks[e.resource.status.lifecycleState] ??= performance.now();
    published.set(e.key, marks);
  });
}

/** POST then wait for ready; `ms` is client-observed create → ready. */
async function createReady(name, wait = waitReadyByEvents) {
  const t0 = performance.now();
  const r = await call("POST", `/api/tenants/${TENANT}/sandboxes`, createBody(name));
  const tPost = performance.now();
  if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
  const id = r.body.metadata.id;
  live.add(id);
  const ready = await wait(id);
  const tSeen = performance.now();
  const m = published.get(id) ?? {};
  published.delete(id);
  // With the image present, create records `starting` at once (no `pending`).
  const first = m.pending ?? m.starting;
  const timeline = { post: tPost - t0, recorded: first - t0, starting: m.starting - first, ready: m.ready - m.starting, seen: tSeen - m.ready };
  return { id, ms: tSeen - t0, phases: ready.status.phases ?? {}, timeline };
}

async function removeSandbox(id) {
  const s = await call("POST", `/api/tenants/${TENANT}/sandboxes/${id}/stop`, { gracePeriodMs: 0 });
  if (s.status !== 200 && s.status !== 404) throw new Error(`stop ${id}: ${s.status} ${JSON.stringify(s.body)}`);
  const d = await call("DELETE", `/api/tenants/${TENANT}/sandboxes/${id}`);
  if (d.status !== 204 && d.status !== 404) throw new Error(`delete ${id}: ${d.status} ${JSON.stringify(d.body)}`);
  live.delete(id);
}

// ---------------------------------------------------------------- podman (when installed)
async function openPodman(imageRef) {
  const path = findBinary("podman");
  if (!path) return undefined;
  // Private storage under the work dir, so nothing of the host's podman is touched.
  const base = podmanGlobalArgs(join(work, "podman"));
  const p = (args) => run(path, [...base, ...args]);
  try {
    await p(["pull", "--quiet", "--tls-verify=false", imageRef]);
    // A podman that is installed but cannot run a container on this host (its runtime or cgroup setup) is left out, not fatal.
    await p(["run", "-d", "--network", "none", ...PODMAN_RUN_LIMITS, "--name", "podman-probe", imageRef, ...ARGV]);
    await p(["rm", "-f", "-t", "0", "podman-probe"]);
  } catch (err) {
    log(`podman is installed but could not run a container here (${err.message}) — skipped`);
    await p(["system", "reset", "--force"]).catch(() => undefined);
    return undefined;
  }
  const names = new Set();
  return {
    async start(name) {
      names.add(name);
      return timed(path, [...base, "run", "-d", "--network", "none", ...PODMAN_RUN_LIMITS, "--name", name, imageRef, ...ARGV]);
    },
    async remove(name) {
      await p(["rm", "-f", "-t", "0", name]);
      names.delete(name);
    },
    async close() {
      for (const n of [...names]) await p(["rm", "-f", "-t", "0", n]).catch(() => undefined);
      await p(["system", "reset", "--force"]).catch((err) => log(`podman system reset: ${err.message}`));
      removePodmanCgroupParents();
    },
  };
}

// ---------------------------------------------------------------- the run
const seq = { raw: [], rawRun: [], api: [], poll: [], podman: [], pullMs: [], createMs: [], startMs: [], timeline: [], pollTimeline: [], mount: [] };
const conc = {
  raw: [],
  rawMounted: [],
  api: [],
  podman: [],
  failures: 0,
  lastRecorded: [],
  lastStarting: [],
  lastReady: [],
  createMs: [],
  startMs: [],
  loopDelayMax: [],
  loopDelayMean: [],
};
let coldPullMs = NaN;
let memory;
let cleanupError;
let failure;

try {
  log(`server code: ${codeSource}`);
  env = await startSandboxEnv();
  const t = await call("POST", "/api/tenants", { id: TENANT });
  if (t.status !== 201) throw new Error(`creating tenant: ${t.status} ${JSON.stringify(t.body)}`);
  watchTransitions();

  // Pull once (the first create pulls), and warm both paths up once.
  const first = await createReady("warmup");
  coldPullMs = first.phases.pullMs;
  await removeSandbox(first.id);
  await removeSandbox((await createReady("warmup")).id);
  await removeSandbox((await createReady("warmup", waitReadyByPolling)).id);

  // The raw floor runs the same config.json the server writes for this image and argv.
  const image = await env.srv.server.parts.images.pull(BUSYBOX);
  const lowerDirs = image.layers.map((l) => l.dir);
  const proc = resolveProcess(image.config, { argv: ARGV }, lowerDirs);
  const res = clampResources(undefined);
  const rawSpec = (id) => ({
    id,
    rootfs: { lowerDirs },
    process: proc,
    hostname: id,
    resources: { cpuCount: res.cpuCount, memoryLimitBytes: res.memoryLimitBytes, pidsLimit: res.pidsLimit },
    annotations: { "io.nimbus.tenant": TENANT, "io.nimbus.sandbox": id },
  });
  raw = await RawRuntime.open(join(work, "raw"));
  const rawOnce = async (id) => {
    const t0 = performance.now();
    await raw.prepare(rawSpec(id));
    const mountMs = performance.now() - t0;
    const runMs = await raw.start(id);
    await raw.remove(id);
    return { mountMs, runMs };
  };
  await rawOnce("raw-warmup");

  podman = await openPodman(`${env.registry.backendHost}/library/busybox:latest`);
  const podmanOnce = async (name) => {
    const ms = await podman.start(name);
    await podman.remove(name);
    return ms;
  };

  // 1–3: sequential runs; the order rotates so background load weighs on each alike.
  const steps = [
    async (i) => {
      const r = await rawOnce(`raw-${i}`);
      seq.mount.push(r.mountMs);
      seq.rawRun.push(r.runMs);
      seq.raw.push(r.mountMs + r.runMs);
    },
    async () => {
      const r = await createReady("bench");
      seq.api.push(r.ms);
      for (const k of ["pullMs", "createMs", "startMs"]) seq[k].push(r.phases[k]);
      seq.timeline.push(r.timeline);
      await removeSandbox(r.id);
    },
    async () => {
      const r = await createReady("bench-poll", waitReadyByPolling);
      seq.poll.push(r.ms);
      seq.pollTimeline.push(r.timeline);
      await removeSandbox(r.id);
    },
    ...(podman ? [async (i) => seq.podman.push(await podmanOnce(`podman-${i}`))] : []),
  ];
  log(`${RUNS} sequential runs of ${steps.length} kinds`);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length](i);
  }

  // 4: concurrent creates, ABBA over rounds.
  const rawConcurrent = async (round) => {
    const ids = Array.from({ length: CONCURRENT }, (_, i) => `rawc-${round}-${i}`);
    // All 20 mounts at once, then all 20 runs at once; both phases are timed.
    const t0 = performance.now();
    await Promise.all(ids.map((id) => raw.prepare(rawSpec(id))));
    conc.rawMounted.push(performance.now() - t0);
    await Promise.all(ids.map((id) => raw.start(id)));
    conc.raw.push(performance.now() - t0);
    for (const id of ids) await raw.remove(id);
  };
  const apiConcurrent = async () => {
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const t0 = performance.now();
    const results = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => createReady("burst")));
    conc.api.push(performance.now() - t0);
    loop.disable();
    conc.loopDelayMax.push(loop.max / 1e6);
    conc.loopDelayMean.push(loop.mean / 1e6);
    const ok = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
    // Server-side progress of the burst, from the timelines (ms since the burst began).
    const since = (r, upto) => ["recorded", "starting", "ready"].slice(0, upto).reduce((a, k) => a + r.timeline[k], 0);
    conc.lastRecorded.push(Math.max(...ok.map((r) => since(r, 1))));
    conc.lastStarting.push(Math.max(...ok.map((r) => since(r, 2))));
    conc.lastReady.push(Math.max(...ok.map((r) => since(r, 3))));
    for (const r of ok) {
      conc.createMs.push(r.phases.createMs);
      conc.startMs.push(r.phases.startMs);
    }
    conc.failures += results.filter((r) => r.status === "rejected").length;
    for (const r of results) if (r.status === "rejected") log(`concurrent create failed: ${r.reason?.message ?? r.reason}`);
    await Promise.all([...live].map((id) => removeSandbox(id)));
  };
  const podmanConcurrent = async (round) => {
    const names = Array.from({ length: CONCURRENT }, (_, i) => `podmanc-${round}-${i}`);
    const t0 = performance.now();
    await Promise.all(names.map((n) => podman.start(n)));
    conc.podman.push(performance.now() - t0);
    for (const n of names) await podman.remove(n);
  };
  log(`${ROUNDS} rounds of ${CONCURRENT} concurrent`);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [rawConcurrent, apiConcurrent] : [apiConcurrent, rawConcurrent];
    for (const f of order) await f(r);
    if (podman) await podmanConcurrent(r);
  }

  // 5: memory of idle sandboxes beyond their own processes.
  log(`${IDLE} idle sandboxes for memory`);
  const settleMemory = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 200));
    }
    return { rss: memoryOf(process.pid).rssKiB, heap: process.memoryUsage().heapUsed / 1024 };
  };
  const before = await settleMemory();
  const idle = [];
  for (let i = 0; i < IDLE; i++) idle.push((await createReady("idle")).id);
  const after = await settleMemory();
  const stateDir = join(env.srv.root, "data", "runtime");
  const conmons = idle.map((id) => memoryOf(conmonPid(stateDir, id))).filter(Boolean);
  const { cgroupHierarchies } = await loadServer("runtime/container/cgroups");
  const memoryRoot = cgroupHierarchies().find((h) => (h.version === 1 ? h.controllers.includes("memory") : true));
  const own = idle.map((id) => {
    // The container's own cgroup, as its process sees it: since tenant groups it sits
    // below `<parent>/<group>/`, not right below the parent.
    const pid = readFileSync(join(stateDir, "c", id, "pidfile"), "utf8").trim();
    const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
    const path = memoryRoot?.version === 1 ? lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l)) : lines.find((l) => l.startsWith("0::"));
    if (!memoryRoot || !path) return NaN;
    const dir = join(memoryRoot.mountPoint, path.slice(path.indexOf(":", path.indexOf(":") + 1) + 1));
    for (const f of ["memory.usage_in_bytes", "memory.current"]) {
      try {
        return Number(readFileSync(join(dir, f), "utf8")) / 1024;
      } catch {
        /* the other cgroup version */
      }
    }
    return NaN;
  });
  memory = {
    count: conmons.length,
    conmonPssKiB: sum(conmons.map((m) => m.pssKiB)) / conmons.length,
    conmonRssKiB: pct(
      conmons.map((m) => m.rssKiB),
      50,
    ),
    serverRssKiB: (after.rss - before.rss) / IDLE,
    serverHeapKiB: (after.heap - before.heap) / IDLE,
    ownKiB: pct(own, 50),
  };
  for (const id of idle) await removeSandbox(id);
} catch (err) {
  failure = err;
} finally {
  // Cleanup: our sandboxes (grace 0: `sleep` as PID 1 ignores SIGTERM), then the
  // env's own teardown (deletes tenants, stops the server, leak-checks its runtime
  // dir, stops the registry), the raw runtime (leak-checked), podman, the work dir.
  const steps = [
    async () => {
      for (const id of [...live]) await removeSandbox(id);
    },
    async () => env && (await env.close()),
    async () => raw && (await raw.close()),
    async () => podman && (await podman.close()),
    async () => rmSync(work, { recursive: true, force: true }),
  ];
  for (const s of steps) {
    try {
      await s();
    } catch (err) {
      cleanupError ??= err;
      log(`cleanup: ${err.message}`);
    }
  }
}

if (failure) {
  console.error(`bench failed: ${failure.stack ?? failure}`);
  if (cleanupError) console.error(`and cleanup failed: ${cleanupError.message}`);
  process.exit(1);
}

// ---------------------------------------------------------------- report
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const verdict = (ok) => (ok ? "met" : "MISSED");
const row = (label, xs, extra = "") => console.log(`${label.padEnd(50)}${fmtMs(pct(xs, 50))} ${fmtMs(pct(xs, 90))}${extra}`);
const mean = (xs) => sum(xs) / xs.length;
const last = (xs) => `${(mean(xs) / 1000).toFixed(2)} s`;
const secs = (xs) => `${(mean(xs) / 1000).toFixed(2)} s [${xs.map((x) => (x / 1000).toFixed(2)).join(", ")}]`;
console.log(`sandbox start: busybox image (already pulled; cold pull was ${coldPullMs} ms), argv ${ARGV.join(" ")}, ${RUNS} sequential runs per kind`);
console.log(`${"".padEnd(50)}${"p50".padStart(10)}${"p90".padStart(11)}`);
row("raw floor: overlay mount → running (issue's)", seq.raw);
row("  of which crun run --detach alone", seq.rawRun);
row("  of which mount(2) + config.json", seq.mount);
row(
  "API create → ready (event stream)",
  seq.api,
  `   ratio p50 ${ratio(pct(seq.api, 50), pct(seq.raw, 50))} of the floor (goal <= 1.5x: ${verdict(pct(seq.api, 50) <= 1.5 * pct(seq.raw, 50))}); ${ratio(pct(seq.api, 50), pct(seq.rawRun, 50))} of crun run alone`,
);
row("  server phase pullMs (image present)", seq.pullMs);
row("  server phase createMs (mount+bundle+conmon)", seq.createMs);
row("  server phase startMs", seq.startMs);
row(
  "  rest: HTTP, store, events (client - phases)",
  seq.api.map((ms, i) => ms - seq.pullMs[i] - seq.createMs[i] - seq.startMs[i]),
);
console.log("  timeline (p50 of each step; server side seen by an in-process event-bus subscriber):");
const tl = (label, key, xs = seq.timeline) =>
  row(
    `    ${label}`,
    xs.map((t) => t[key]),
  );
tl("POST sent → first state recorded", "recorded");
tl("POST sent → 201 received", "post");
const pulled = seq.timeline.filter((t) => t.starting > 0);
if (pulled.length > 0) tl(`pending → starting (pull; ${pulled.length} runs)`, "starting", pulled);
else console.log("    (image present: create recorded `starting` at once, no `pending`)");
tl("starting → ready (create, start, store write)", "ready");
tl("ready recorded → client sees it (events)", "seen");
row("API create → ready (poll GET every 5 ms)", seq.poll, `   ratio p50 ${ratio(pct(seq.poll, 50), pct(seq.raw, 50))} of raw`);
tl("ready recorded → client sees it (polling)", "seen", seq.pollTimeline);
if (podman) row("podman run -d", seq.podman, `   API is ${ratio(pct(seq.podman, 50), pct(seq.api, 50))} faster`);
else console.log(`${"podman run -d".padEnd(50)}podman not installed — skipped`);
console.log(`${CONCURRENT} concurrent, wall (mean of ${ROUNDS} rounds):`);
console.log(`  ${"raw: mount(2) + config.json + crun run --detach".padEnd(48)}${secs(conc.raw)}   (all mounted after ${last(conc.rawMounted)})`);
console.log(
  `  ${"API create → all ready".padEnd(48)}${secs(conc.api)}   ${conc.failures === 0 ? `all ${CONCURRENT * ROUNDS} ready, 0 failures` : `${conc.failures} FAILURES`}   ratio ${ratio(mean(conc.api), mean(conc.raw))} (goal <= 1.5x: ${verdict(conc.failures === 0 && mean(conc.api) <= 1.5 * mean(conc.raw))})`,
);
console.log(
  `    all ${CONCURRENT} recorded after ${last(conc.lastRecorded)}, starting after ${last(conc.lastStarting)}, ready after ${last(conc.lastReady)} (means over rounds)`,
);
console.log(
  `    server phase createMs p50 ${pct(conc.createMs, 50)} ms, max ${Math.max(...conc.createMs)} ms; startMs p50 ${pct(conc.startMs, 50)} ms, max ${Math.max(...conc.startMs)} ms`,
);
console.log(
  `    event-loop delay of this process (server + client) during the burst: mean ${mean(conc.loopDelayMean).toFixed(1)} ms, max ${Math.max(...conc.loopDelayMax).toFixed(0)} ms`,
);
console.log(`  ${"podman run -d".padEnd(48)}${podman ? secs(conc.podman) : "podman not installed — skipped"}`);
if (memory) {
  const mib = (k) => `${(k / 1024).toFixed(2)} MiB`;
  const total = memory.conmonPssKiB + Math.max(0, memory.serverRssKiB);
  console.log(`host memory per idle sandbox (${memory.count} idle, ${ARGV.join(" ")}):`);
  const line = (label, value) => console.log(`  ${label.padEnd(48)}${value}`);
  line("conmon PSS, mean", `${mib(memory.conmonPssKiB)}   (its RSS p50 ${mib(memory.conmonRssKiB)}, mostly shared libraries)`);
  line("server RSS growth per sandbox", `${mib(memory.serverRssKiB)}   (JS heap ${mib(memory.serverHeapKiB)})`);
  line("total beyond its own processes", `${mib(total)}   (goal < 5 MiB: ${verdict(total < 5 * 1024)})`);
  line("for scale: its own cgroup (the sleep), p50", `${mib(memory.ownKiB)}   (not counted)`);
}
console.log("reference (issue 4, this kind of machine): raw crun ≈ 43 ms p50, podman run -d ≈ 245 ms; 20 concurrent raw crun ≈ 0.8 s, podman ≈ 4.5 s");
console.log(
  `cleanup: ${cleanupError ? `FAILED — ${cleanupError.message}` : "no containers, mounts, conmon processes, cgroups or temp dirs left (leak-checked)"}`,
);
if (cleanupError) process.exitCode = 1;
