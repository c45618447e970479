// runtime/container/exit-file.ts — reading conmon's exit records.
// Owns turning `<exit-dir>/<id>` (exit code text, mtime = finish time) plus the OOM
// evidence (conmon's `oom` file, the cgroup's oom_kill counter) into ExitInfo (waiting
// for them is runtime/entry-watch.ts on the exit dir). Because the record is a
// file, a container that exited while no server was running is read the same way.

import { existsSync } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import type { ExitInfo } from "../backend.js";

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, num]) => [num, name]));

/** conmon records death by signal N as 128+N. */
export function signalFromExitCode(code: number): string | undefined {
  return code > 128 && code <= 128 + 64 ? SIGNAL_NAMES.get(code - 128) : undefined;
}

export async function readExitFile(path: string): Promise<{ exitCode: number; finishedAt: string } | undefined> {
  // Usually absent (the process runs): a stat says so without the two rejected
  // promises and their Error objects, which every running sandbox paid for each poll.
  if (!existsSync(path)) return undefined;
  try {
    const [text, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    const exitCode = Number(text.trim());
    if (text.trim() === "" || !Number.isInteger(exitCode)) return undefined; // mid-write
    return { exitCode, finishedAt: st.mtime.toISOString() };
  } catch {
    return undefined;
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The full ExitInfo. oomKilled needs both an OOM kill in the cgroup and the main
 * process dying from SIGKILL, so a container whose child was OOM-killed but which
 * exited normally is not reported as OOM-killed.
 */
export function exitInfo(exitCode: number, finishedAt: string, oomEvent: boolean): ExitInfo {
  const signal = signalFromExitCode(exitCode);
  const info: ExitInfo = { exitCode, oomKilled: oomEvent && signal === "SIGKILL", finishedAt };
  if (signal) info.signal = signal;
  return info;
}
