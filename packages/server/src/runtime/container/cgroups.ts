// runtime/container/cgroups.ts — where sandbox cgroups live and how they are read and removed.
// Owns: the absolute cgroupsPath under the server's own cgroup (crun would put a
// relative path at the hierarchy root), OOM-kill counters (v1 memory.oom_control,
// v2 memory.events) and removing leftover cgroup dirs in every hierarchy.

import { createHash } from "node:crypto";
import { readFile, readdir, rmdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface CgroupHierarchy {
  mountPoint: string;
  version: 1 | 2;
  controllers: string[];
}

/** Parses /proc/self/mountinfo text into the mounted cgroup hierarchies. */
export function parseCgroupMounts(mountinfo: string): CgroupHierarchy[] {
  const out: CgroupHierarchy[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fsType, , superOpts = ""] = line.slice(sep + 3).split(" ");
    const mountPoint = left[4];
    if (!mountPoint) continue;
    if (fsType === "cgroup2") out.push({ mountPoint, version: 2, controllers: [] });
    else if (fsType === "cgroup") {
      const known = [
        "cpu",
        "cpuacct",
        "cpuset",
        "memory",
        "devices",
        "freezer",
        "blkio",
        "pids",
        "hugetlb",
        "net_cls",
        "net_prio",
        "perf_event",
        "rdma",
        "misc",
      ];
      const opts = superOpts.split(",");
      const controllers = opts.filter((o) => known.includes(o) || o.startsWith("name="));
      out.push({ mountPoint, version: 1, controllers });
    }
  }
  return out;
}

export function cgroupHierarchies(): CgroupHierarchy[] {
  return parseCgroupMounts(readFileSync("/proc/self/mountinfo", "utf8"));
}

/**
 * The server's own cgroup path, from /proc/self/cgroup text: the v1 memory
 * controller's (so sandboxes are charged under the server) or else the unified one.
 */
export function serverCgroupPath(procSelfCgroup: string): string {
  let unified = "/";
  for (const line of procSelfCgroup.split("\n").filter(Boolean)) {
    const [, controllers = "", path = "/"] = line.split(":");
    if (controllers.split(",").includes("memory")) return path;
    if (controllers === "") unified = path;
  }
  return unified;
}

/** One parent per state dir, so two servers on one host never share cgroups. */
export function cgroupParentFor(stateDir: string, procSelfCgroup = readFileSync("/proc/self/cgroup", "utf8")): string {
  const base = serverCgroupPath(procSelfCgroup).replace(/\/+$/, "");
  const tag = createHash("sha256").update(stateDir).digest("hex").slice(0, 12);
  return `${base}/nimbus-${tag}`;
}

/** The directories a cgroup path maps to, one per mounted hierarchy. */
export function cgroupDirs(cgroupPath: string, hierarchies = cgroupHierarchies()): string[] {
  return hierarchies.map((h) => join(h.mountPoint, cgroupPath));
}

/** Whether the kernel OOM-killed anything in this cgroup (v1 or v2); false if it is gone. */
export async function cgroupOomKilled(cgroupPath: string, hierarchies = cgroupHierarchies()): Promise<boolean> {
  for (const h of hierarchies) {
    const file = h.version === 1 ? "memory.oom_control" : "memory.events";
    if (h.version === 1 && !h.controllers.includes("memory")) continue;
    try {
      const text = await readFile(join(h.mountPoint, cgroupPath, file), "utf8");
      const m = /^oom_kill (\d+)$/m.exec(text);
      if (m && Number(m[1]) > 0) return true;
    } catch {
      // not in this hierarchy, or already removed
    }
  }
  return false;
}

/**
 * Removes the cgroup in every hierarchy, killing stragglers first. Children
 * (nested cgroups the container made) are removed bottom-up. Missing dirs are fine.
 */
export async function removeCgroup(cgroupPath: string, hierarchies = cgroupHierarchies()): Promise<string[]> {
  // Never walk and kill outside a cgroup we created.
  if (!/\/nimbus-[0-9a-f]{12}(\/[a-z0-9-]+)?\/[a-z0-9-]+$/.test(cgroupPath)) throw new Error(`refusing to remove cgroup ${cgroupPath}`);
  const failed: string[] = [];
  await Promise.all(
    cgroupDirs(cgroupPath, hierarchies).map(async (dir) => {
      if (!(await removeTree(dir))) failed.push(dir);
    }),
  );
  return failed;
}

async function removeTree(dir: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  for (let attempt = 0; attempt < 50; attempt++) {
    await killProcs(dir);
    try {
      await rmdir(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY" && code !== "ENOTEMPTY") return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return false;
}

async function killProcs(dir: string): Promise<void> {
  let text = "";
  try {
    text = await readFile(join(dir, "cgroup.procs"), "utf8");
  } catch {
    return;
  }
  for (const pid of text.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * rmdir of the per-server parent in every hierarchy; fails quietly while it has
 * children. The runtime creates the parent's own parent (the server's memory
 * cgroup path) in hierarchies where the server does not live there, e.g.
 * pids:/process_api/<id>; that one is removed too when empty, and only that one.
 */
export async function removeEmptyParent(
  parentPath: string,
  hierarchies = cgroupHierarchies(),
  procSelfCgroup = readFileSync("/proc/self/cgroup", "utf8"),
): Promise<void> {
  await Promise.all(cgroupDirs(parentPath, hierarchies).map((d) => rmdir(d).catch(() => undefined)));
  const base = dirname(parentPath);
  if (base === "/") return;
  const own = ownPaths(procSelfCgroup);
  const strictlyBelow = (path: string | undefined) => path !== undefined && path !== base && base.startsWith(path === "/" ? "/" : `${path}/`);
  await Promise.all(
    hierarchies
      .filter((h) => strictlyBelow(h.version === 2 ? own.get("") : h.controllers.map((c) => own.get(c)).find((p) => p !== undefined)))
      .map((h) => rmdir(join(h.mountPoint, base)).catch(() => undefined)),
  );
}

/** Each controller ("" for v2) → the server's own path in its hierarchy. */
function ownPaths(procSelfCgroup: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of procSelfCgroup.split("\n").filter(Boolean)) {
    const [, controllers = "", path = "/"] = line.split(":");
    for (const c of controllers === "" ? [""] : controllers.split(",")) m.set(c, path);
  }
  return m;
}
