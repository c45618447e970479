/**
 * Refuses work that fills the disk when the data dir's filesystem is nearly
 * full (issue 15 finding 12): sandbox creates and image pulls/loads answer
 * 507 `service.insufficient_storage` while free space is below the floor, so
 * the server keeps answering everything else (reads, stops, deletes — the
 * operations that free space) instead of failing half-way through a write.
 */
import { AppError } from "./errors.js";

export interface DiskGuardDeps {
  /** Free bytes under the data dir now. */
  freeBytes: () => number;
  /** The floor; 0 turns the guard off. */
  minFreeBytes: number;
}

export class DiskGuard {
  constructor(private readonly deps: DiskGuardDeps) {}

  /** Throws 507 when the disk is below the floor; `what` names the refused operation. */
  check(what: "create a sandbox" | "pull an image" | "load an image"): void {
    if (this.deps.minFreeBytes <= 0) return;
    const free = this.deps.freeBytes();
    if (free >= this.deps.minFreeBytes) return;
    throw new AppError(
      "service.insufficient_storage",
      `the server's disk is nearly full (${mib(free)} MiB free, it keeps ${mib(this.deps.minFreeBytes)} MiB free), so it will not ${what} now: delete sandboxes or prune images to free space, then retry`,
      { detail: { freeBytes: free, minFreeBytes: this.deps.minFreeBytes } },
    );
  }
}

const mib = (bytes: number) => Math.floor(bytes / (1024 * 1024));
