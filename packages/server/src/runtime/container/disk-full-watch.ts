// runtime/container/disk-full-watch.ts — noticing that conmon cannot write its logs.
// Owns the "disk full" signal of the stdio facet (issue 15 finding 12): conmon
// writes a container's output to its log and, when the write fails (ENOSPC), drops
// it with nothing but a warning of its own; the hub reads only that log, so the
// bytes would vanish without a trace. The filesystem holding the logs is looked
// at once per interval (one statfs for all containers), and each time it becomes
// full the hubs tell their readers, who get a `gap` frame with reason `disk_full`.

import { statfs } from "node:fs/promises";

/**
 * Below this many free bytes the logs' filesystem counts as full: conmon's
 * records are up to ~8.3 KiB, and ext4 refuses block allocations a little
 * before its free count reaches zero.
 */
export const DISK_FULL_BELOW_BYTES = 64 * 1024;
const INTERVAL_MS = 1_000;

export class DiskFullWatch {
  /** The last look found the filesystem full. */
  isFull = false;
  private timer?: NodeJS.Timeout;
  private looking = false;

  constructor(
    private readonly dir: string,
    /** Called once each time the filesystem becomes full (not again until it had room). */
    private readonly onFull: () => void,
    private readonly intervalMs = INTERVAL_MS,
  ) {}

  /** Idempotent; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.look(), this.intervalMs);
    this.timer.unref();
    void this.look();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async look(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      // conmon runs as root, so blocks reserved for root count as free (bfree, not bavail).
      const s = await statfs(this.dir);
      const full = s.bfree * s.bsize < DISK_FULL_BELOW_BYTES;
      const became = full && !this.isFull;
      this.isFull = full;
      if (became) this.onFull();
    } catch {
      // The dir is gone (the backend is closing): nothing to report.
    } finally {
      this.looking = false;
    }
  }
}
