/**
 * The world of a hostile-tenant test that aims at the host's file tree: a
 * sandbox env for the file (sandbox-env-for-file.ts) with the tenant created,
 * and a temp dir on the host for a sandbox to try to reach (a symlink target,
 * files it must never read or write). Call it at the top level of a test
 * file; it registers `before`/`after`, and its fields are set once `before`
 * has run.
 */
import { after, before } from "node:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxEnv } from "./sandbox-env.js";
import { sandboxEnvForFile } from "./sandbox-env-for-file.js";

export interface HostDirEnv {
  readonly env: SandboxEnv;
  /** The host temp dir, removed after the tests. */
  readonly hostDir: string;
  /** Every path below the host dir (recursively, relative, sorted): compare before and after a race. */
  hostTree(): string[];
}

/** `seed` fills the host dir before the tests run. */
export function hostDirEnv(tenant: string, hostDirPrefix: string, seed?: (hostDir: string) => void): HostDirEnv {
  const world = sandboxEnvForFile([tenant]);
  let hostDir = "";
  before(() => {
    hostDir = mkdtempSync(join(tmpdir(), hostDirPrefix));
    seed?.(hostDir);
  });
  after(() => {
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });
  return {
    get env() {
      return world.env;
    },
    get hostDir() {
      return hostDir;
    },
    hostTree() {
      return readdirSync(hostDir, { recursive: true }).map(String).sort();
    },
  };
}
