// bench/sandbox-start/measure.mjs — what raw.mjs and api.mjs share: loading the
// server's code (packages/server/dist when built, else the TypeScript sources
// through tsx), percentiles, /proc memory readings, and the raw `crun run`
// floor: RawRuntime mounts the overlay and writes config.json (`prepare`), then
// times `crun run --detach` to a running process (`start`).

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { loadNative } from "@nimbus/native";
import { codeSource, loadServer } from "../lib/load-server.mjs";

export { codeSource, loadServer };

const native = loadNative();
const envList = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);

/**
 * Runs a command with stdio on /dev/null (`crun run --detach` keeps inherited
 * pipes open). Started with the server's own cheap spawn (posix_spawn through
 * @nimbus/native): child_process would fork this whole process first, and every
 * floor measured here would pay for that.
 */
export async function run(file, args) {
  const pid = native.spawn(file, [file, ...args], envList, "/", [-1, -1, -1], false);
  const status = await native.wait(pid);
  if (status.exitCode !== 0) throw new Error(`${file} ${args.join(" ")} exited ${status.exitCode ?? `on signal ${status.signal}`}`);
}

/** Runs a command and resolves with the milliseconds it took. */
export async function timed(file, args) {
  const t0 = performance.now();
  await run(file, args);
  return performance.now() - t0;
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function pct(xs, p) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const fmtMs = (ms) => `${ms.toFixed(1).padStart(7)} ms`;
export const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** `{rssKiB, pssKiB}` of a process from /proc/<pid>/smaps_rollup, or undefined when it is gone. */
export function memoryOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
    return { rssKiB: field("Rss"), pssKiB: field("Pss") };
  } catch {
    return undefined;
  }
}

/** conmon's pid for a container of a ContainerBackend state dir, or undefined. */
export function conmonPid(stateDir, id) {
  try {
    return Number(readFileSync(join(stateDir, "c", id, "conmon.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
}

/**
 * The raw floor: containers in a state dir laid out like a ContainerBackend's
 * (so the leak check reads it), without conmon. `prepare` mounts the overlay
 * and writes config.json outside the timed window; `start` times
 * `crun run --detach` to a running process; `close` checks nothing is left.
 */
export class RawRuntime {
  static async open(stateDir, runtime = "crun") {
    const [{ findBinary }, { ociConfig, etcFiles }, { mountOverlay, unmountOverlay }, { StateLayout }, { cgroupParentFor, removeEmptyParent }, leak] =
      await Promise.all([
        loadServer("runtime/container/exec"),
        loadServer("runtime/container/bundle"),
        loadServer("runtime/container/overlay"),
        loadServer("runtime/container/layout"),
        loadServer("runtime/container/cgroups"),
        loadServer("runtime/leak-check"),
      ]);
    const path = findBinary(runtime);
    if (!path) throw new Error(`${runtime} is not installed`);
    return new RawRuntime({
      stateDir,
      runtime,
      path,
      ociConfig,
      etcFiles,
      mountOverlay,
      unmountOverlay,
      layout: new StateLayout(stateDir),
      cgroupParent: cgroupParentFor(stateDir),
      removeEmptyParent,
      leak,
    });
  }

  constructor(deps) {
    Object.assign(this, deps);
    this.ids = new Set();
    mkdirSync(this.layout.runtimeRoot, { recursive: true, mode: 0o700 });
    mkdirSync(this.layout.bundlesDir, { recursive: true, mode: 0o700 });
  }

  /** `spec` is a runtime ContainerSpec (id, rootfs.lowerDirs, process, hostname, resources). */
  async prepare(spec) {
    const bundle = this.layout.bundle(spec.id);
    mkdirSync(bundle, { mode: 0o700 });
    this.ids.add(spec.id);
    await this.mountOverlay(spec.rootfs.lowerDirs, {
      target: this.layout.rootfs(spec.id),
      upperDir: join(bundle, "upper"),
      workDir: join(bundle, "work"),
      linkDir: join(bundle, "l"),
    });
    // The server's config, written the quickest way (synchronously) so the floor stays a floor.
    const config = this.ociConfig(spec, { cgroupsPath: `${this.cgroupParent}/${spec.id}`, etcDir: bundle });
    for (const [name, text] of Object.entries(this.etcFiles(spec.hostname))) writeFileSync(join(bundle, name), text);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
  }

  /** ms from `crun run --detach` to its return: the container's process is running. */
  start(id) {
    return timed(this.path, [`--root=${this.layout.runtimeRoot}`, "run", "--detach", "--bundle", this.layout.bundle(id), id]);
  }

  async remove(id) {
    await run(this.path, [`--root=${this.layout.runtimeRoot}`, "delete", "--force", id]).catch(() => undefined);
    await this.unmountOverlay(this.layout.rootfs(id)).catch(() => undefined);
    rmSync(this.layout.bundle(id), { recursive: true, force: true });
    this.ids.delete(id);
  }

  /** Removes what is left, then throws if the leak check still finds anything. */
  async close() {
    for (const id of [...this.ids]) await this.remove(id);
    await this.removeEmptyParent(this.cgroupParent);
    const left = this.leak.describeLeftovers(await this.leak.findLeftovers(this.stateDir));
    if (left.length > 0) throw new Error(`raw ${this.runtime} left things on the host:\n  ${left.join("\n  ")}`);
  }
}
