// runtime/host-check.ts — can this host run sandboxes, and with which runtime?
// Owns the start-up check: the OCI runtime and conmon binaries (naming the Debian
// packages when missing), overlayfs, root, and the cgroups v1 hybrid quirk where
// crun refuses to run while the hugetlb controller sits on cgroup2. As root it
// applies the fix (mount hugetlb as a v1 hierarchy); otherwise it says exactly
// what to run, and it can fall back to runc, which needs no fix.

import { readFileSync } from "node:fs";
import type { RuntimeName } from "./backend.js";
import { parseCgroupMounts } from "./container/cgroups.js";
import { loadNative } from "@nimbus/native";
import { findBinary, runCommand } from "./container/exec.js";
import { RuntimeError } from "./errors.js";
import { describeMissingTools, missingHostTools } from "./host-tools.js";

export const HUGETLB_FIX_COMMAND = "mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb";

const INSTALL_HINT: Record<RuntimeName | "conmon", string> = {
  crun: "apt-get install crun",
  runc: "apt-get install runc",
  runsc: "install gVisor's runsc (no Debian package): see https://gvisor.dev/docs/user_guide/install/",
  conmon: "apt-get install conmon",
};

export interface HostCheckOptions {
  /** @default "crun" */
  runtime?: RuntimeName;
  /** Apply the hugetlb mount fix when running as root. @default true */
  applyFixes?: boolean;
  /** Use runc when the requested crun cannot run here. @default true */
  allowFallback?: boolean;
}

export interface HostCheckResult {
  /** The runtime to use: the requested one, or runc after a fallback. */
  runtime: RuntimeName;
  runtimePath: string;
  conmonPath: string;
  /** Commands this check ran to prepare the host. */
  fixesApplied: string[];
  /** Things the operator should know, e.g. why we fell back to runc. */
  warnings: string[];
}

/**
 * True on a cgroups v1 hybrid host where hugetlb is not mounted as a v1
 * hierarchy although the kernel has it (so it sits on cgroup2): crun refuses that.
 */
export function hugetlbNeedsFix(mountinfo: string, procCgroups: string): boolean {
  const mounts = parseCgroupMounts(mountinfo);
  const v1 = mounts.filter((m) => m.version === 1);
  const hybrid = v1.length > 0 && mounts.some((m) => m.version === 2);
  if (!hybrid || v1.some((m) => m.controllers.includes("hugetlb"))) return false;
  return procCgroups.split("\n").some((l) => {
    const [name, , , enabled] = l.split(/\s+/);
    return name === "hugetlb" && enabled === "1";
  });
}

async function applyHugetlbFix(): Promise<boolean> {
  const r = await runCommand("sh", ["-c", HUGETLB_FIX_COMMAND]);
  return r.code === 0;
}

/** Checks (and where allowed prepares) the host; throws host_unsupported naming every fix needed. */
export async function checkHost(options: HostCheckOptions = {}): Promise<HostCheckResult> {
  const requested = options.runtime ?? "crun";
  const applyFixes = options.applyFixes ?? true;
  const allowFallback = options.allowFallback ?? true;
  const isRoot = process.getuid?.() === 0;
  const problems: string[] = [];
  const warnings: string[] = [];
  const fixesApplied: string[] = [];

  if (!isRoot) problems.push("sandboxes need root (rootless containers are not supported): start the server as root");
  if (!readText("/proc/filesystems").includes("overlay")) problems.push("the kernel has no overlayfs: run `modprobe overlay`");
  const conmonPath = findBinary("conmon");
  if (!conmonPath) problems.push(`conmon is not installed: run \`${INSTALL_HINT.conmon}\``);
  try {
    loadNative(); // mounts the roots and spawns conmon
  } catch (err) {
    problems.push((err as Error).message);
  }

  let runtime = requested;
  let runtimePath = findBinary(requested);
  const fallBack = (why: string): boolean => {
    const runc = allowFallback && requested !== "runc" ? findBinary("runc") : undefined;
    if (!runc) return false;
    warnings.push(`${why}; using runc instead`);
    runtime = "runc";
    runtimePath = runc;
    return true;
  };
  if (!runtimePath && !fallBack(`${requested} is not installed (${INSTALL_HINT[requested]})`)) {
    problems.push(`${requested} is not installed: run \`${INSTALL_HINT[requested]}\``);
  }
  if (runtime === "crun" && hugetlbNeedsFix(readText("/proc/self/mountinfo"), readText("/proc/cgroups"))) {
    if (isRoot && applyFixes && (await applyHugetlbFix())) {
      fixesApplied.push(HUGETLB_FIX_COMMAND);
    } else if (!fallBack(`crun refuses this cgroups v1 hybrid host while hugetlb is on cgroup2 (fix: \`${HUGETLB_FIX_COMMAND}\`)`)) {
      problems.push(`crun refuses this cgroups v1 hybrid host while hugetlb is on cgroup2: run \`${HUGETLB_FIX_COMMAND}\` as root, or use --runtime runc`);
    }
  }
  // Not fatal: sandboxes that do not use them still run; the features that do fail with this cause.
  const missingTools = describeMissingTools(missingHostTools());
  if (missingTools) (problems.length ? problems : warnings).push(missingTools);
  if (problems.length > 0 || !runtimePath || !conmonPath) {
    throw new RuntimeError("host_unsupported", `this host cannot run sandboxes yet:\n- ${problems.join("\n- ")}`);
  }
  return { runtime, runtimePath, conmonPath, fixesApplied, warnings };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
