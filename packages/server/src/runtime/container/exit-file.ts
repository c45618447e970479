// runtime/container/exit-file.ts — reading and waiting for conmon's exit records.
// Owns turning `<exit-dir>/<id>` (exit code text, mtime = finish time) plus the OOM
// evidence (conmon's `oom` file, the cgroup's oom_kill counter) into ExitInfo, and
// one inotify watch on the exit dir shared by all waiters. Because the record is a
// file, a container that exited while no server was running is read the same way.

import { existsSync, watch, type FSWatcher } from "node:fs";
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

/** One fs.watch on the exit dir; waiters are woken by file name (conmon renames into place). */
export class ExitDirWatcher {
  private watcher: FSWatcher | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly dir: string) {}

  /** Calls wake() when something named `id` appears; returns an unsubscribe function. */
  subscribe(id: string, wake: () => void): () => void {
    if (!this.watcher) {
      this.watcher = watch(this.dir, (_event, name) => {
        if (name) this.waiters.get(name.toString())?.forEach((w) => w());
      });
      this.watcher.on("error", () => this.close());
      this.watcher.unref();
    }
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(wake);
    // The watch stays open between waits: closing it when the last waiter left
    // and opening it again on the next poll left windows where an exit was missed.
    return () => {
      set!.delete(wake);
      if (set!.size === 0) this.waiters.delete(id);
    };
  }

  /** Resolves when `id` changes in the exit dir, after timeoutMs, or on abort, whichever is first. */
  nextChange(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = this.subscribe(id, done);
      signal?.addEventListener("abort", done);
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
