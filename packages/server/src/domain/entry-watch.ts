/**
 * Wakes whoever waits for a name to appear in one directory, through one
 * inotify watch (fs.watch) shared by all waiters. It replaces polling with
 * existsSync every few ms, which in a burst of creates cost the event loop
 * hundreds of wake-ups per second. A wake-up is a hint, not a promise: callers
 * look again (and still look now and then on their own, in case an event was
 * lost to an inotify queue overflow).
 */
import { watch, type FSWatcher } from "node:fs";

export class EntryWatch {
  private watcher: FSWatcher | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(private readonly dir: string) {}

  /** Resolves when `name` is created in (or renamed into) the directory, or after `maxWaitMs`. */
  appears(name: string, maxWaitMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ensureWatching();
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        const waiting = this.waiters.get(name);
        waiting?.delete(wake);
        if (waiting?.size === 0) this.waiters.delete(name);
        resolve();
      };
      const timer = setTimeout(wake, maxWaitMs);
      set.add(wake);
    });
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake();
  }

  private ensureWatching(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.dir, (_event, name) => {
        if (name === null) return;
        for (const wake of [...(this.waiters.get(String(name)) ?? [])]) wake();
      });
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined; // waiters fall back to their own timeouts; the next wait watches again
      });
      this.watcher.unref();
    } catch {
      // The directory is not there (yet): waiters time out and look for themselves.
    }
  }
}
