#!/usr/bin/env node
// bench/sandbox-start/raw.mjs — the raw floor for starting a sandbox, next to our backend.
// Measures, on a tiny busybox rootfs: (1) raw `crun run --detach` from an
// already-mounted overlay to a running process, (2) our ContainerBackend's
// create+start (overlay mount, bundle, conmon, crun create, crun start), with a
// per-phase breakdown, and (3) 20 of each at once. Prints p50/p90 side by side.
// Run as root from the repo root:  node bench/sandbox-start/raw.mjs [runs] [runtime]
// (uses packages/server/dist after `npm run build`, else the sources through tsx).
// api.mjs measures the same floor next to the HTTP API; both share measure.mjs.
// Reference on this kind of machine: raw crun ≈ 43 ms p50, 20 concurrent ≈ 0.8 s; goal ≤ 1.5×.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawRuntime, conmonPid, fmtMs as f, loadServer, memoryOf, pct, timed } from "./measure.mjs";

const { ContainerBackend } = await loadServer("runtime/container/crun-backend");
const { makeBusyboxLayer } = await loadServer("runtime/conformance/suite");
const { findBinary } = await loadServer("runtime/container/exec");
const { assertNoLeftovers } = await loadServer("runtime/leak-check");

const RUNS = Number(process.argv[2] ?? 30);
const RUNTIME = process.argv[3] ?? "crun";
const CONCURRENT = 20;
const runtimePath = findBinary(RUNTIME);
const work = mkdtempSync(join(tmpdir(), "nimbus-bench-"));
const layer = makeBusyboxLayer(join(work, "layer"));

const spec = (id) => ({
  id,
  rootfs: { lowerDirs: [layer] },
  process: { args: ["sleep", "600"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
  hostname: id,
  resources: { memoryLimitBytes: 64 << 20, pidsLimit: 64, cpuCount: 1 },
});

// ---- raw: bundle + overlay prepared outside the timed window; then our backend ----
const raw = await RawRuntime.open(join(work, "raw"), RUNTIME);
async function rawOnce(id) {
  await raw.prepare(spec(id));
  const ms = await raw.start(id);
  await raw.remove(id);
  return ms;
}

const stateDir = join(work, "state");
const backend = new ContainerBackend({ stateDir, runtime: RUNTIME });

// Sequential runs alternate raw and backend, so load from anything else on the
// host weighs on both sides alike.
const rawTimes = [];
const oursTimes = [];
const createTimes = [];
const startTimes = [];
for (let i = 0; i < RUNS; i++) {
  rawTimes.push(await rawOnce(`raw-${i}`));
  const id = `ours-${i}`;
  const a = performance.now();
  await backend.create(spec(id));
  const b = performance.now();
  await backend.start(id);
  const c = performance.now();
  oursTimes.push(c - a);
  createTimes.push(b - a);
  startTimes.push(c - b);
  await backend.delete(id);
}
const rawIds = Array.from({ length: CONCURRENT }, (_, i) => `rawc-${i}`);
await Promise.all(rawIds.map((id) => raw.prepare(spec(id))));
let t0 = performance.now();
await Promise.all(rawIds.map((id) => raw.start(id)));
const rawConcurrent = performance.now() - t0;
for (const id of rawIds) await raw.remove(id);
await raw.close();

t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENT }, async (_, i) => {
    await backend.create(spec(`oursc-${i}`));
    await backend.start(`oursc-${i}`);
  }),
);
const oursConcurrent = performance.now() - t0;
const running = (await backend.list()).filter((s) => s.status === "running").length;
// Host memory per idle sandbox beyond its own processes: conmon's proportional set size.
const conmonPssKiB = Array.from({ length: CONCURRENT }, (_, i) => memoryOf(conmonPid(stateDir, `oursc-${i}`))?.pssKiB ?? NaN);
await Promise.all((await backend.list()).map((s) => backend.delete(s.id)));
backend.close();
await assertNoLeftovers(stateDir);

// ---- pieces: conmon alone, a bare spawn of the runtime ----
const conmonPath = findBinary("conmon");
const conmonVersion = [];
const runtimeVersion = [];
for (let i = 0; i < 10; i++) {
  conmonVersion.push(await timed(conmonPath, ["--version"]));
  runtimeVersion.push(await timed(runtimePath, ["--version"]));
}

console.log(`sandbox start on ${RUNTIME} (${RUNS} sequential runs, ${CONCURRENT} concurrent), busybox rootfs`);
console.log(`${"".padEnd(34)}${"p50".padStart(10)}${"p90".padStart(11)}`);
console.log(`${`raw ${RUNTIME} run --detach`.padEnd(34)}${f(pct(rawTimes, 50))} ${f(pct(rawTimes, 90))}`);
console.log(
  `${"backend create+start".padEnd(34)}${f(pct(oursTimes, 50))} ${f(pct(oursTimes, 90))}   ratio p50 ${(pct(oursTimes, 50) / pct(rawTimes, 50)).toFixed(2)}x (goal <= 1.5x)`,
);
console.log(`${"  of which create (mount+conmon)".padEnd(34)}${f(pct(createTimes, 50))} ${f(pct(createTimes, 90))}`);
console.log(`${"  of which start".padEnd(34)}${f(pct(startTimes, 50))} ${f(pct(startTimes, 90))}`);
console.log(`${"conmon --version (exec floor)".padEnd(34)}${f(pct(conmonVersion, 50))} ${f(pct(conmonVersion, 90))}`);
console.log(`${`${RUNTIME} --version (exec floor)`.padEnd(34)}${f(pct(runtimeVersion, 50))} ${f(pct(runtimeVersion, 90))}`);
console.log(
  `${`${CONCURRENT} concurrent, wall`.padEnd(34)}raw ${(rawConcurrent / 1000).toFixed(2)} s   backend ${(oursConcurrent / 1000).toFixed(2)} s (${running}/${CONCURRENT} running)   ratio ${(oursConcurrent / rawConcurrent).toFixed(2)}x`,
);
console.log(`${"conmon per idle sandbox (PSS)".padEnd(34)}${(pct(conmonPssKiB, 50) / 1024).toFixed(2)} MiB p50 (goal < 5 MiB)`);
console.log("reference: raw crun ≈ 43 ms p50, 20 concurrent ≈ 0.8 s");
rmSync(work, { recursive: true, force: true });
