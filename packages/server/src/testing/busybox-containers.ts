/**
 * Tests that drive a ContainerBackend directly, without a server: when they
 * can run, a container spec on the conformance suite's busybox layer, and the
 * teardown of a backend's state dir that deletes every container and checks
 * nothing was left on the host.
 */
import { rmSync } from "node:fs";
import { assertNoLeftovers, type ContainerBackend, type ContainerSpec } from "../runtime/index.js";
import { findBinary } from "../runtime/container/exec.js";

/** The `skip` option of a test that needs a real container. */
export const crunSkip = (process.getuid?.() !== 0 || !findBinary("crun") || !findBinary("conmon")) && "needs root, crun and conmon";

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
