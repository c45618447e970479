// runtime/entry-watch.ts — waiting for something to happen to a name in one directory.
// One inotify watch (fs.watch) per directory, shared by every waiter and woken by
// file name: conmon's exit files (renamed into place in the exit dir) and the
// links it makes in the sockets dir right before it binds an attach socket. It
// replaces polling with existsSync every few ms. An event is a hint, not a
// promise: callers look again, and each wait also ends after `maxWaitMs`, which
// covers an event lost to an inotify queue overflow.

import { watch, type FSWatcher } from "node:fs";

export class EntryWatch {
  private watcher: FSWatcher | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(private readonly dir: string) {}

  /**
   * Resolves at the next event for `name` in the directory (created, renamed
   * into place, written), after `maxWaitMs`, or when `signal` aborts.
   */
  nextEvent(name: string, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.closed) this.ensureWatching();
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        const waiting = this.waiters.get(name);
        waiting?.delete(wake);
        if (waiting?.size === 0) this.waiters.delete(name);
        resolve();
      };
      const timer = setTimeout(wake, maxWaitMs);
      signal?.addEventListener("abort", wake);
      set.add(wake);
    });
  }

  /** Stops watching and wakes every waiter; later waits just last their maxWaitMs. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake();
  }

  private ensureWatching(): void {
    // The watch stays open between waits: closing it when the last waiter left
    // and opening it again on the next wait left windows where an event was missed.
    if (this.watcher) return;
    try {
      this.watcher = watch(this.dir, (_event, name) => {
        if (name === null) return;
        for (const wake of [...(this.waiters.get(String(name)) ?? [])]) wake();
      });
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined; // waiters fall back to their timeouts; the next wait watches again
      });
      this.watcher.unref();
    } catch {
      // The directory is not there (yet): waiters time out and look for themselves.
    }
  }
}
