// runtime/conformance/suite.ts — the one suite every real RuntimeBackend must pass.
// Owns the harness (a tiny static busybox rootfs built from the host's
// /bin/busybox, a fresh state dir per test, a leftover check after each test) and
// the lifecycle cases; the isolation cases live in isolation.ts, the ports
// facet's in ports.ts.
// Nothing here pulls an image or talks to a registry.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe } from "node:test";
import type { ContainerSpec, ExitInfo, RuntimeBackend } from "../backend.js";
import { isolationCases } from "./isolation.js";
import { lifecycleCases } from "./lifecycle.js";
import { portsCases } from "./ports.js";
import { readLogText } from "../container/log-file.js";
import { assertNoLeftovers } from "../leak-check.js";

export interface ConformanceTarget {
  /** Shown in the suite name, e.g. "crun". */
  name: string;
  /** A backend on `stateDir`; called again on the same dir to simulate a server restart. */
  make(stateDir: string): RuntimeBackend;
  /** The cgroup dir (v1 pids hierarchy or v2) of a container, to read pids.current. */
  pidsCgroupDir?(backend: RuntimeBackend, id: string): string | undefined;
  /** How to spawn a fresh Node process that creates a container and exits (see the survival case). */
  childModule?: string;
}

export interface ConformanceContext {
  readonly target: ConformanceTarget;
  backend(): RuntimeBackend;
  stateDir(): string;
  lowerDirs(): string[];
  spec(id: string, args: string[], overrides?: Partial<ContainerSpec>): ContainerSpec;
  /** create + start + wait; returns the exit and everything the process printed. */
  run(spec: ContainerSpec): Promise<{ exit: ExitInfo; out: string }>;
  /** Drop the current backend and construct another on the same state dir. */
  restart(): RuntimeBackend;
}

/** A single-layer rootfs: /bin/busybox (static) plus one symlink per applet. */
export function makeBusyboxLayer(dir: string): string {
  for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev", "mnt", "root"]) mkdirSync(join(dir, d), { recursive: true });
  cpSync("/bin/busybox", join(dir, "bin/busybox"));
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const a of applets) if (a !== "busybox") symlinkSync("busybox", join(dir, "bin", a));
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  return dir;
}

export function runtimeConformance(target: ConformanceTarget): void {
  describe(`runtime conformance: ${target.name}`, () => {
    let layerRoot = "";
    let lowers: string[] = [];
    let dir = "";
    let current: RuntimeBackend | undefined;

    before(() => {
      layerRoot = mkdtempSync(join(tmpdir(), "nimbus-rt-layers-"));
      // Two layers, so the overlay is exercised with more than one lower.
      lowers = [makeBusyboxLayer(join(layerRoot, "base")), join(layerRoot, "top")];
      mkdirSync(join(lowers[1]!, "etc"), { recursive: true });
      writeFileSync(join(lowers[1]!, "etc/motd"), "top layer\n");
    });
    after(() => rmSync(layerRoot, { recursive: true, force: true }));

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "nimbus-rt-"));
      current = target.make(dir);
    });
    afterEach(async () => {
      const b = current!;
      for (const c of await b.list()) await b.delete(c.id);
      (b as { close?: () => void }).close?.();
      await assertNoLeftovers(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    const ctx: ConformanceContext = {
      target,
      backend: () => current!,
      stateDir: () => dir,
      lowerDirs: () => lowers,
      spec: (id, args, overrides = {}) => ({
        id,
        rootfs: { lowerDirs: lowers },
        process: { args, env: ["PATH=/bin", "HOME=/root"], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
        hostname: "sandbox-test",
        resources: { memoryLimitBytes: 128 * 1024 * 1024, pidsLimit: 64, cpuCount: 1 },
        ...overrides,
      }),
      async run(spec) {
        const b = current!;
        await b.create(spec);
        await b.start(spec.id);
        const exit = await b.wait(spec.id, AbortSignal.timeout(30_000));
        const out = await readLogText(b.logPath(spec.id));
        return { exit, out };
      },
      restart() {
        (current as { close?: () => void } | undefined)?.close?.();
        current = target.make(dir);
        return current;
      },
    };

    lifecycleCases(ctx);
    isolationCases(ctx);
    portsCases(ctx);
  });
}

/** Fails with the container's output attached, which is what one needs to debug. */
export function assertOutput(out: string, pattern: RegExp, what: string): void {
  assert.match(out, pattern, `${what}; container printed:\n${out}`);
}
