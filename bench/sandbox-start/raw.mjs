#!/usr/bin/env node
// bench/sandbox-start/raw.mjs — the raw floor for starting a sandbox, next to our backend.
// Measures, on a tiny busybox rootfs: (1) raw `crun run --detach` from an
// already-mounted overlay to a running process, (2) our ContainerBackend's
// create+start (overlay mount, bundle, conmon, crun create, crun start), with a
// per-phase breakdown, and (3) 20 of each at once. Prints p50/p90 side by side.
// Run as root from the repo root:  node --import tsx bench/sandbox-start/raw.mjs [runs] [runtime]
// Reference on this kind of machine: raw crun ≈ 43 ms p50, 20 concurrent ≈ 0.8 s; goal ≤ 1.5×.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const src = new URL("../../packages/server/src/runtime/", import.meta.url);
const { ContainerBackend } = await import(new URL("container/crun-backend.ts", src).href);
const { writeBundle } = await import(new URL("container/bundle.ts", src).href);
const { mountOverlay, unmountOverlay } = await import(new URL("container/overlay.ts", src).href);
const { makeBusyboxLayer } = await import(new URL("conformance.ts", src).href);
const { findBinary } = await import(new URL("container/exec.ts", src).href);
const { assertNoLeftovers } = await import(new URL("leak-check.ts", src).href);

const RUNS = Number(process.argv[2] ?? 30);
const RUNTIME = process.argv[3] ?? "crun";
const CONCURRENT = 20;
const runtimePath = findBinary(RUNTIME);
const work = mkdtempSync(join(tmpdir(), "nimbus-bench-"));
const layer = makeBusyboxLayer(join(work, "layer"));

function run(file, args) {
  return new Promise((resolve, reject) => {
    // stdio ignored: `crun run --detach` keeps inherited pipes open.
    const c = spawn(file, args, { stdio: "ignore" });
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(" ")} exited ${code}`))));
  });
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const spec = (id) => ({
  id,
  rootfs: { lowerDirs: [layer] },
  process: { args: ["sleep", "600"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
  hostname: id,
  resources: { memoryLimitBytes: 64 << 20, pidsLimit: 64, cpuCount: 1 },
});

// ---- raw: bundle + overlay prepared outside the timed window; then our backend ----
const rawState = join(work, "raw");
const rawRoot = join(rawState, "root");
mkdirSync(rawRoot, { recursive: true });
const cgParent = new ContainerBackend({ stateDir: join(work, "cg-probe"), runtime: RUNTIME }).cgroupParent + "-raw";
async function prepareRaw(id) {
  const b = join(rawState, id);
  mkdirSync(b, { recursive: true });
  await mountOverlay([layer], { target: join(b, "rootfs"), upperDir: join(b, "upper"), workDir: join(b, "work"), linkDir: join(b, "l") });
  await writeBundle(b, spec(id), `${cgParent}/${id}`);
  return b;
}
async function rawStart(id, bundle) {
  const t0 = performance.now();
  await run(runtimePath, [`--root=${rawRoot}`, "run", "--detach", "--bundle", bundle, id]);
  return performance.now() - t0;
}
async function rawCleanup(id, bundle) {
  await run(runtimePath, [`--root=${rawRoot}`, "delete", "--force", id]);
  await unmountOverlay(join(bundle, "rootfs"));
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
  const rid = `raw-${i}`;
  const bundle = await prepareRaw(rid);
  rawTimes.push(await rawStart(rid, bundle));
  await rawCleanup(rid, bundle);
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
const rawBundles = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => prepareRaw(`rawc-${i}`).then((b) => [`rawc-${i}`, b])));
let t0 = performance.now();
await Promise.all(rawBundles.map(([id, b]) => rawStart(id, b)));
const rawConcurrent = performance.now() - t0;
for (const [id, b] of rawBundles) await rawCleanup(id, b);


t0 = performance.now();
await Promise.all(Array.from({ length: CONCURRENT }, async (_, i) => {
  await backend.create(spec(`oursc-${i}`));
  await backend.start(`oursc-${i}`);
}));
const oursConcurrent = performance.now() - t0;
const running = (await backend.list()).filter((s) => s.status === "running").length;
// Host memory per idle sandbox beyond its own processes: conmon's proportional set size.
const conmonPssKiB = Array.from({ length: CONCURRENT }, (_, i) => {
  try {
    const pid = readFileSync(join(stateDir, "c", `oursc-${i}`, "conmon.pid"), "utf8").trim();
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))[1]);
  } catch {
    return NaN;
  }
});
await Promise.all((await backend.list()).map((s) => backend.delete(s.id)));
backend.close();
await assertNoLeftovers(stateDir);

// ---- pieces: conmon alone, a bare spawn of the runtime ----
const conmonPath = findBinary("conmon");
const conmonVersion = [];
const runtimeVersion = [];
for (let i = 0; i < 10; i++) {
  let a = performance.now();
  await run(conmonPath, ["--version"]);
  conmonVersion.push(performance.now() - a);
  a = performance.now();
  await run(runtimePath, ["--version"]);
  runtimeVersion.push(performance.now() - a);
}

const f = (ms) => `${ms.toFixed(1).padStart(7)} ms`;
console.log(`sandbox start on ${RUNTIME} (${RUNS} sequential runs, ${CONCURRENT} concurrent), busybox rootfs`);
console.log(`${"".padEnd(34)}${"p50".padStart(10)}${"p90".padStart(11)}`);
console.log(`${`raw ${RUNTIME} run --detach`.padEnd(34)}${f(pct(rawTimes, 50))} ${f(pct(rawTimes, 90))}`);
console.log(`${"backend create+start".padEnd(34)}${f(pct(oursTimes, 50))} ${f(pct(oursTimes, 90))}   ratio p50 ${(pct(oursTimes, 50) / pct(rawTimes, 50)).toFixed(2)}x (goal <= 1.5x)`);
console.log(`${"  of which create (mount+conmon)".padEnd(34)}${f(pct(createTimes, 50))} ${f(pct(createTimes, 90))}`);
console.log(`${"  of which start".padEnd(34)}${f(pct(startTimes, 50))} ${f(pct(startTimes, 90))}`);
console.log(`${"conmon --version (exec floor)".padEnd(34)}${f(pct(conmonVersion, 50))} ${f(pct(conmonVersion, 90))}`);
console.log(`${`${RUNTIME} --version (exec floor)`.padEnd(34)}${f(pct(runtimeVersion, 50))} ${f(pct(runtimeVersion, 90))}`);
console.log(`${`${CONCURRENT} concurrent, wall`.padEnd(34)}raw ${(rawConcurrent / 1000).toFixed(2)} s   backend ${(oursConcurrent / 1000).toFixed(2)} s (${running}/${CONCURRENT} running)   ratio ${(oursConcurrent / rawConcurrent).toFixed(2)}x`);
console.log(`${"conmon per idle sandbox (PSS)".padEnd(34)}${(pct(conmonPssKiB, 50) / 1024).toFixed(2)} MiB p50 (goal < 5 MiB)`);
console.log("reference: raw crun ≈ 43 ms p50, 20 concurrent ≈ 0.8 s");
execFileSync("sh", ["-c", `for d in /sys/fs/cgroup/*${cgParent}; do rmdir "$d" 2>/dev/null; done; true`]);
rmSync(work, { recursive: true, force: true });
