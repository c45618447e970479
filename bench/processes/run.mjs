#!/usr/bin/env node
// bench/processes — running a command in a sandbox through the SDK next to the
// runtimes' own exec, in one run, on loopback, with real crun + conmon (issue 18's
// goal: `commands.run("true")` within 1.5× of `crun exec`, ahead of `podman exec`):
//   - round trip (p50/p99) of `commands.run("true")` through the SDK handle
//     (`nimbus.sandboxes.create({ image })` → `sb.commands.run`: HTTP, the exec
//     route, crun exec under the server, the NDJSON frames back), next to
//     `crun exec <id> /bin/sh -c true` in the same container (the floor) and
//     `podman exec` of the same command in a podman container of the same image
//     (private --root/--runroot under the bench's temp dir; skipped with a note
//     when podman is not installed);
//   - first output byte of an on-demand process: `nimbus.processes.start`
//     (`echo hi`) then its NDJSON stream from cursor 0, until the first stdout
//     frame (the SDK handle has no `commands.start` yet).
// The sides run in alternating turns so background load hits all alike. Bounded:
// --runs per side (default 200), --firsts on-demand processes (default 50).
// Everything is removed at the end (the sandbox env checks; podman's store is reset).
// Needs root and crun; podman optional. Uses packages/server/dist when built.
// Usage: node bench/processes/run.mjs [--runs N] [--firsts N]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codeSource, loadServer, numberArg } from "../lib/load-server.mjs";
import { PODMAN_RUN_LIMITS, podmanGlobalArgs, removePodmanCgroupParents } from "../lib/podman.mjs";
import { pct, timed } from "../sandbox-start/measure.mjs";

const RUNS = numberArg("--runs", 200);
const FIRSTS = numberArg("--firsts", 50);
const TURNS = 4;
const T = "bench";
const CMD = ["/bin/sh", "-c", "true"];

const { startSandboxEnv, BUSYBOX } = await loadServer("testing/sandbox-env");
const { findBinary } = await loadServer("runtime/container/exec");
const { Nimbus } = await import("@nimbus/nimbus");

const ms = (x) => `${x.toFixed(1).padStart(7)} ms`;
const work = mkdtempSync(join(tmpdir(), "nimbus-bench-processes-"));

/** podman with its own store under the work dir; undefined when not installed. */
async function openPodman(imageRef) {
  const path = findBinary("podman");
  if (!path) return undefined;
  const base = podmanGlobalArgs(join(work, "podman"));
  // Setup and teardown are not timed: run with stderr kept, for a note that says why.
  const p = async (args) => {
    try {
      execFileSync(path, [...base, ...args], { stdio: ["ignore", "ignore", "pipe"], timeout: 120_000 });
    } catch (err) {
      throw new Error(`podman ${args[0]}: ${String(err.stderr ?? err.message).trim()}`);
    }
  };
  await p(["pull", "--quiet", "--tls-verify=false", imageRef]);
  await p(["run", "-d", "--network", "none", ...PODMAN_RUN_LIMITS, "--name", "bench-exec", imageRef, "sleep", "3600"]);
  return {
    exec: () => timed(path, [...base, "exec", "bench-exec", ...CMD]),
    async close() {
      await p(["rm", "-f", "-t", "0", "bench-exec"]).catch((err) => console.error(`podman rm: ${err.message}`));
      await p(["system", "reset", "--force"]).catch((err) => console.error(`podman system reset: ${err.message}`));
      removePodmanCgroupParents();
    },
  };
}

/** One on-demand process: start → first stdout frame of its stream, in ms. */
async function firstByte(nimbus, sandboxId) {
  const t0 = performance.now();
  const p = await nimbus.processes.start({ sandboxId, argv: ["echo", "hi"] });
  for await (const f of nimbus.processes.stream({ sandboxId, id: p.id, cursor: 0 })) {
    if (f.kind === "stdout") {
      const took = performance.now() - t0;
      // Read to the end, so the process is done before the next one starts.
      for await (const g of nimbus.processes.stream({ sandboxId, id: p.id, cursor: 0 })) if (g.kind === "exit") break;
      return took;
    }
    if (f.kind === "exit" || f.kind === "closed") throw new Error(`process ${p.id} ended without output: ${JSON.stringify(f)}`);
  }
  throw new Error(`the stream of ${p.id} ended without output`);
}

let env;
let podman;
let podmanNote = "";
try {
  env = await startSandboxEnv();
  await env.tenant(T);
  const nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: T });
  const sb = await nimbus.sandboxes.create({ image: BUSYBOX });
  const crun = findBinary("crun");
  const crunRoot = `--root=${join(env.srv.root, "data", "runtime", "root")}`;
  try {
    podman = await openPodman(`${env.registry.backendHost}/library/busybox:latest`);
    if (!podman) podmanNote = "podman not installed — skipped (apt-get install podman)";
  } catch (err) {
    podmanNote = `podman failed to start a container — skipped: ${err.message}`;
  }

  // Warm-up: the first exec of each pays for page-cache misses.
  for (let i = 0; i < 3; i++) {
    await sb.commands.run("true");
    await timed(crun, [crunRoot, "exec", sb.id, ...CMD]);
    await podman?.exec();
  }
  const sdk = [];
  const floor = [];
  const pod = [];
  const first = [];
  const perTurn = Math.max(1, Math.ceil(RUNS / TURNS));
  const firstsPerTurn = Math.max(1, Math.ceil(FIRSTS / TURNS));
  for (let t = 0; t < TURNS; t++) {
    for (let i = 0; i < perTurn; i++) {
      const t0 = performance.now();
      const r = await sb.commands.run("true");
      sdk.push(performance.now() - t0);
      if (r.exitCode !== 0) throw new Error(`commands.run("true") exited ${r.exitCode}`);
      floor.push(await timed(crun, [crunRoot, "exec", sb.id, ...CMD]));
      if (podman) pod.push(await podman.exec());
    }
    for (let i = 0; i < firstsPerTurn; i++) first.push(await firstByte(nimbus, sb.id));
  }
  await sb.delete();

  const row = (label, xs, extra = "") => console.log(`  ${label.padEnd(34)}p50 ${ms(pct(xs, 50))}  p99 ${ms(pct(xs, 99))}${extra}`);
  const ratio = (a, b) => `${(pct(a, 50) / pct(b, 50)).toFixed(2)}x`;
  console.log(`server code: ${codeSource}`);
  console.log(`exec round trip of \`/bin/sh -c true\` in a busybox container, ${sdk.length} each, ${TURNS} alternating turns:`);
  row(`crun exec (floor)`, floor);
  row(`SDK commands.run("true")`, sdk, `   ratio p50 ${ratio(sdk, floor)} p99 ${(pct(sdk, 99) / pct(floor, 99)).toFixed(2)}x vs crun exec (goal <= 1.5x)`);
  if (podman) row("podman exec", pod, `   SDK ratio p50 ${ratio(sdk, pod)} vs podman exec (goal < 1.00x)`);
  else console.log(`  ${"podman exec".padEnd(34)}${podmanNote}`);
  console.log(`on-demand process, first output byte (processes.start + stream, \`echo hi\`), ${first.length}:`);
  row("start → first stdout frame", first, `   ratio p50 ${ratio(first, floor)} vs a whole crun exec`);
} finally {
  await podman?.close();
  await env?.close();
  rmSync(work, { recursive: true, force: true });
}
