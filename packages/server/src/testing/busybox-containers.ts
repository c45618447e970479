/**
 * Tests that drive a ContainerBackend directly, without a server: when they
 * can run, the conformance suite's busybox layer for the file, container
 * specs on it, and the teardown of a backend's state dir that deletes every
 * container and checks nothing was left on the host.
 */
import { after, before } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNoLeftovers, type ContainerBackend, type ContainerSpec } from "../runtime/index.js";
import { findBinary } from "../runtime/container/exec.js";
import { makeBusyboxLayer } from "../runtime/conformance/suite.js";

/** The `skip` option of a test that needs a real container. */
export const crunSkip = (process.getuid?.() !== 0 || !findBinary("crun") || !findBinary("conmon")) && "needs root, crun and conmon";

export interface BusyboxLayer {
  /** The layer dir, once `before` has run. */
  readonly dir: string;
  /** `args` as PID 1 of a small busybox container on the layer. */
  spec(id: string, args: string[], terminal?: boolean): ContainerSpec;
}

/**
 * The busybox layer of a test file: built in `before` (unless the file is
 * skipped), removed in `after`. Call it at the top level, after registering
 * the hooks that delete the file's containers, so the layer outlives them.
 */
export function busyboxLayerForFile(tmpPrefix: string): BusyboxLayer {
  let dir = "";
  before(() => {
    if (!crunSkip) dir = makeBusyboxLayer(mkdtempSync(join(tmpdir(), tmpPrefix)));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    spec: (id, args, terminal = false) => busyboxContainerSpec(dir, id, args, terminal),
  };
}

/** `args` as PID 1 of a small busybox container on `lowerDir`. */
export function busyboxContainerSpec(lowerDir: string, id: string, args: string[], terminal = false): ContainerSpec {
  return {
    id,
    rootfs: { lowerDirs: [lowerDir] },
    process: { args, env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, terminal },
    hostname: id,
    resources: { memoryLimitBytes: 64 << 20, pidsLimit: 32, cpuCount: 1 },
  };
}

/** Deletes every container of `backend`, closes it, checks its state dir holds nothing of them, and removes the dir. */
export async function removeBackendState(backend: ContainerBackend, stateDir: string): Promise<void> {
  for (const c of await backend.list()) await backend.delete(c.id);
  backend.close();
  await assertNoLeftovers(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
}
