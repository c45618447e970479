// runtime/child.ts — a throwaway "server" for the survival conformance case.
// Creates and starts one container with the real backend, then exits the Node
// process at once, without cleanup, as a crashed server would. Driven by env:
// NIMBUS_RT_CHILD_STATE (state dir), NIMBUS_RT_CHILD_LOWERS (JSON layer dirs),
// NIMBUS_RT_CHILD_RUNTIME (crun|runc|runsc).

import type { RuntimeName } from "../backend.js";
import { ContainerBackend } from "../container/crun-backend.js";

const stateDir = process.env.NIMBUS_RT_CHILD_STATE!;
const lowerDirs = JSON.parse(process.env.NIMBUS_RT_CHILD_LOWERS ?? "[]") as string[];
const runtime = (process.env.NIMBUS_RT_CHILD_RUNTIME ?? "crun") as RuntimeName;

const backend = new ContainerBackend({ stateDir, runtime });
await backend.create({
  id: "orphan-1",
  rootfs: { lowerDirs },
  process: { args: ["sleep", "600"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
  hostname: "orphan",
  resources: { memoryLimitBytes: 64 * 1024 * 1024, pidsLimit: 16, cpuCount: 1 },
});
await backend.start("orphan-1");
process.exit(0);
