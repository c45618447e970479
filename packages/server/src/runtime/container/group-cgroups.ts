// runtime/container/group-cgroups.ts — the group level between the server's
// cgroup parent and its containers: `<parent>/<group>/<container>`. A group
// (the domain uses one per tenant) carries aggregate ceilings for memory, CPU
// and pids in the hierarchies that enforce them, so the kernel bounds the sum
// of its containers (v1 memory, cpu and pids are hierarchical).
// Cost per create: one mkdir per controller; the limit writes happen only when
// the group dir is new.

import { mkdir, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GroupLimits } from "../backend.js";
import { cgroupHierarchies, type CgroupHierarchy } from "./cgroups.js";

/** The CFS period the group's quota is expressed in (the kernel's default). */
const CPU_PERIOD_US = 100_000;

/** Hierarchies that enforce a group ceiling: v1 memory, cpu and pids, or the v2 unified one. */
function limitHierarchies(hierarchies: CgroupHierarchy[]): CgroupHierarchy[] {
  const v1 = hierarchies.filter((h) => h.version === 1 && h.controllers.some((c) => c === "memory" || c === "cpu" || c === "pids"));
  // On a v1 or hybrid host the controllers live in v1; the hybrid's cgroup2 mount holds none of them.
  return v1.length > 0 ? v1 : hierarchies.filter((h) => h.version === 2);
}

/** The files and values that hold `limits` in one hierarchy. */
function limitFiles(h: CgroupHierarchy, limits: GroupLimits): Array<[string, string]> {
  const quotaUs = String(Math.max(1000, Math.round(limits.cpuCount * CPU_PERIOD_US)));
  if (h.version === 2) {
    return [
      ["memory.max", String(limits.memoryLimitBytes)],
      ["cpu.max", `${quotaUs} ${CPU_PERIOD_US}`],
      ["pids.max", String(limits.pidsLimit)],
    ];
  }
  const out: Array<[string, string]> = [];
  // memsw = limit: the group cannot spill past its ceiling into swap either.
  if (h.controllers.includes("memory"))
    out.push(["memory.limit_in_bytes", String(limits.memoryLimitBytes)], ["memory.memsw.limit_in_bytes", String(limits.memoryLimitBytes)]);
  if (h.controllers.includes("cpu")) out.push(["cpu.cfs_period_us", String(CPU_PERIOD_US)], ["cpu.cfs_quota_us", quotaUs]);
  if (h.controllers.includes("pids")) out.push(["pids.max", String(limits.pidsLimit)]);
  return out;
}

/**
 * Makes the group's dirs where missing and writes the ceilings into the new
 * ones (an existing group keeps what updateGroupLimits last wrote).
 */
export async function ensureGroup(groupPath: string, limits: GroupLimits, parentLimits?: GroupLimits, hierarchies = cgroupHierarchies()): Promise<void> {
  await Promise.all(
    limitHierarchies(hierarchies).map(async (h) => {
      const dir = join(h.mountPoint, groupPath);
      const made = await mkdir(dir, { recursive: true });
      if (made === undefined) return;
      // The server's parent is new too: it gets the ceilings for all groups together, first.
      if (made !== dir && parentLimits) await writeLimits(dirname(dir), limitFiles(h, parentLimits));
      await writeLimits(dir, limitFiles(h, limits));
    }),
  );
}

/** Writes new ceilings into an existing group; a group with no dirs yet gets them at its next create. */
export async function updateGroupLimits(groupPath: string, limits: GroupLimits, hierarchies = cgroupHierarchies()): Promise<void> {
  await Promise.all(
    limitHierarchies(hierarchies).map(async (h) => {
      const dir = join(h.mountPoint, groupPath);
      try {
        await writeLimits(dir, limitFiles(h, limits));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }),
  );
}

async function writeLimits(dir: string, files: Array<[string, string]>): Promise<void> {
  // In order: v1 cpu needs the period before a quota expressed in it.
  for (let i = 0; i < files.length; i++) {
    const [file, value] = files[i]!;
    try {
      await writeFile(join(dir, file), value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // v1 keeps memory <= memory+swap: raising the ceiling needs memsw first.
      if (code === "EINVAL" && file === "memory.limit_in_bytes" && files[i + 1]?.[0] === "memory.memsw.limit_in_bytes") {
        await writeOptional(join(dir, "memory.memsw.limit_in_bytes"), value);
        await writeFile(join(dir, file), value);
        i++;
        continue;
      }
      // Absent without swap accounting (memsw), or on v2 before the parent delegates the controller (crun does that below).
      if (code === "ENOENT" && (file.startsWith("memory.memsw") || !file.includes("_"))) continue;
      throw err;
    }
  }
}

async function writeOptional(path: string, value: string): Promise<void> {
  await writeFile(path, value).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

/** rmdir of the group in every hierarchy (crun made it in the others); quiet while it still has children. */
export async function removeGroupDirs(groupPath: string, hierarchies = cgroupHierarchies()): Promise<void> {
  await Promise.all(hierarchies.map((h) => rmdir(join(h.mountPoint, groupPath)).catch(() => undefined)));
}
