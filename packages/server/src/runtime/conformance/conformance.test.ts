// runtime/conformance/conformance.test.ts — runs the conformance suite against every real
// runtime present on this host (crun; runc; runsc with --platform=ptrace). A
// runtime that is not installed is skipped, with the reason shown.

import { join } from "node:path";
import { describe, it } from "node:test";
import type { RuntimeName } from "../backend.js";
import { runtimeConformance } from "./suite.js";
import { findBinary } from "../container/exec.js";
import { cgroupHierarchies } from "../container/cgroups.js";
import { ContainerBackend } from "../container/crun-backend.js";

const childModule = new URL(import.meta.url.endsWith(".ts") ? "./child.ts" : "./child.js", import.meta.url).href;

function pidsCgroupDir(backend: unknown, id: string): string | undefined {
  const b = backend as ContainerBackend;
  const h = cgroupHierarchies().find((x) => x.controllers.includes("pids")) ?? cgroupHierarchies().find((x) => x.version === 2);
  return h && join(h.mountPoint, b.cgroupParent, id);
}

const canRun = process.getuid?.() === 0 && findBinary("conmon") !== undefined;

for (const runtime of ["crun", "runc", "runsc"] as RuntimeName[]) {
  if (!canRun || !findBinary(runtime)) {
    describe(`runtime conformance: ${runtime}`, () => {
      it("is skipped", { skip: !canRun ? "needs root and conmon" : `${runtime} is not installed` }, () => {});
    });
    continue;
  }
  runtimeConformance({
    name: runtime,
    make: (stateDir) => new ContainerBackend({ stateDir, runtime }),
    pidsCgroupDir,
    childModule,
  });
}
