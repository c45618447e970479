// runtime/leak-check.ts — what a container backend left on the host for one state dir.
// Owns the definition of "nothing left": no mounts (overlay roots, netns binds)
// under the state dir, no conmon processes serving it nor stdin relays, no cgroup dirs under its
// cgroup parent (groups and their containers included), no runtime state, bundles, exit files or attach links, and none
// of its egress network (bridge, host-side veths, nftables table), no loop device on its disk-limit images. Other
// suites call `assertNoLeftovers` in an `after` hook.

import { readFileSync, readlinkSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { cgroupDirs, cgroupParentFor } from "./container/cgroups.js";
import { mountPointsUnder } from "./container/overlay.js";
import { StateLayout } from "./container/layout.js";
import { egressLeftovers } from "./container/egress/leftovers.js";
import { loopDevicesUnder } from "./container/disk-image.js";

export interface Leftovers {
  mounts: string[];
  conmonPids: number[];
  /** Stdin relays (socat and its keeper, stdin-relay.ts) running in the state dir. */
  relayPids: number[];
  cgroupDirs: string[];
  runtimeState: string[];
  bundles: string[];
  exitFiles: string[];
  attachLinks: string[];
  /** The state dir's egress bridge and host-side veths. */
  egressLinks: string[];
  /** The state dir's nftables table. */
  nftTables: string[];
  /** Loop devices backed by disk-limit images under the state dir. */
  loopDevices: string[];
}

/**
 * `idleGroups: "ignore"` is for checks while the server still runs: a tenant's
 * group with no container in it (and the parent holding only such groups) is
 * the tenant's, kept for its next sandbox, not something a sandbox left.
 */
export async function findLeftovers(stateDir: string, options: { cgroupParent?: string; idleGroups?: "ignore" } = {}): Promise<Leftovers> {
  const layout = new StateLayout(stateDir);
  const parent = options.cgroupParent ?? cgroupParentFor(stateDir);
  const ls = (dir: string) => readdir(dir).catch(() => [] as string[]);
  const cgroups: string[] = [];
  for (const dir of cgroupDirs(parent)) {
    const children = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
    if (!children) continue;
    const found: string[] = [];
    // Children are groups (one per tenant) or containers; a group's children are containers.
    for (const c of children.filter((c) => c.isDirectory())) {
      const child = join(dir, c.name);
      const grand = (await readdir(child, { withFileTypes: true }).catch(() => [])).filter((g) => g.isDirectory());
      if (options.idleGroups === "ignore" && grand.length === 0 && c.name.startsWith("t-")) continue;
      found.push(child, ...grand.map((g) => join(child, g.name)));
    }
    if (found.length > 0 || options.idleGroups !== "ignore") cgroups.push(dir, ...found);
  }
  const [runtimeState, bundles, exitFiles, attachLinks, { conmonPids, relayPids }, egress, loopDevices] = await Promise.all([
    ls(layout.runtimeRoot),
    ls(layout.bundlesDir),
    ls(layout.exitsDir),
    ls(layout.socketsDir),
    monitorsFor(stateDir),
    egressLeftovers(stateDir),
    loopDevicesUnder(stateDir),
  ]);
  return {
    mounts: mountPointsUnder(stateDir),
    conmonPids,
    relayPids,
    cgroupDirs: cgroups,
    runtimeState,
    bundles,
    exitFiles,
    attachLinks,
    ...egress,
    loopDevices,
  };
}

/** One line per leftover; empty when the host is clean. */
export function describeLeftovers(l: Leftovers): string[] {
  return Object.entries(l).flatMap(([kind, items]) => (items as unknown[]).map((i) => `${kind}: ${String(i)}`));
}

export async function assertNoLeftovers(stateDir: string, options: { cgroupParent?: string; idleGroups?: "ignore" } = {}): Promise<void> {
  const lines = describeLeftovers(await findLeftovers(stateDir, options));
  if (lines.length > 0) throw new Error(`runtime left things on the host for ${stateDir}:\n  ${lines.join("\n  ")}`);
}

/**
 * conmons serving the state dir, and unreaped (zombie) conmons that are this
 * process's children: conmon runs with --sync, so an in-process server must
 * reap each one it spawned (a zombie has no cmdline to match the state dir by).
 * And the stdin relays' socat and sleep, known by their working dir.
 */
async function monitorsFor(stateDir: string): Promise<{ conmonPids: number[]; relayPids: number[] }> {
  const pids: number[] = [];
  const relayPids: number[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    let stat: string;
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    if (argv[0]?.endsWith("conmon") && argv.some((a) => a.startsWith(stateDir + "/"))) pids.push(Number(name));
    else if (isOurZombieConmon(stat)) pids.push(Number(name));
    else if ((argv[0]?.endsWith("socat") || argv[0]?.endsWith("sleep")) && cwdOf(name).startsWith(stateDir + "/")) relayPids.push(Number(name));
  }
  return { conmonPids: pids, relayPids };
}

function cwdOf(pid: string): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return "";
  }
}

/** `/proc/<pid>/stat` is `pid (comm) state ppid ...`. */
function isOurZombieConmon(stat: string): boolean {
  const close = stat.lastIndexOf(")");
  const [state, ppid] = stat.slice(close + 2).split(" ");
  return stat.slice(stat.indexOf("(") + 1, close) === "conmon" && state === "Z" && Number(ppid) === process.pid;
}
