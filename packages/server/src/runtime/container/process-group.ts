// runtime/container/process-group.ts — which process group a host process is in
// and who else is, read from /proc, so a kill can take a process and everything
// it forked (the runtime puts a started process in a group of its own).

import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";

/** The process group of `pid` (field 5 of /proc/<pid>/stat, after the parenthesised name). */
export function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgid = Number(fields[2]);
    return Number.isInteger(pgid) && pgid > 0 ? pgid : undefined;
  } catch {
    return undefined;
  }
}

/** Every process in group `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const pids = (await readdir("/proc").catch(() => [] as string[])).filter((e) => /^[0-9]+$/.test(e)).map(Number);
  return pids.filter((p) => processGroupOf(p) === pgid);
}

/** The group of `pid` when it is safe to signal as a whole: not this server's own. */
export function foreignGroupOf(pid: number): number | undefined {
  const pgid = processGroupOf(pid);
  return pgid !== undefined && pgid > 1 && pgid !== processGroupOf(process.pid) ? pgid : undefined;
}
