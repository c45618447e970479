// runtime/container/pid-files.ts — the pids the backend keeps in files (conmon's,
// a stdin relay's socat and keeper, a process's): read back after a server
// restart, so a pid is only trusted while a process of the expected name runs
// under it (a zombie has no cmdline; a reused pid names another program).

import { closeSync, readFileSync } from "node:fs";

/** The pid recorded in `file`, whether or not it still runs. */
export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid in `file` while a process whose program is `name` runs there (and,
 * given `arg`, has it among its arguments: pids are reused, so a stale file
 * must not name another process of the same program). Not for a child just
 * spawned: its argv is empty until its exec has finished, which posix_spawn
 * does not wait for; its exit status says whether it still runs.
 */
export function livePid(file: string, name: string, arg?: string): number | undefined {
  const pid = readPidFile(file);
  if (pid === undefined) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv[0]?.endsWith(name) && (arg === undefined || argv.includes(arg)) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
