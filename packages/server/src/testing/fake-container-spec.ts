/**
 * A container spec for the in-memory FakeBackend, whose process never runs:
 * only the id and the fields a test names (network, group, …) matter.
 */
import type { ContainerSpec } from "../runtime/index.js";

export function fakeContainerSpec(id: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    id,
    rootfs: { lowerDirs: [] },
    process: { args: ["x"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
    hostname: id,
    resources: { memoryLimitBytes: 1, pidsLimit: 1, cpuCount: 1 },
    ...extra,
  };
}
