/**
 * One timer for the earliest lease deadline. It never polls every session
 * and never waits for a reader: whoever changes a deadline calls `arm()`,
 * which asks for the earliest one and sets a single timer for it. When the
 * timer fires it runs `expireDue(now)` and re-arms for the next deadline.
 */
import type { Logger } from "../log.js";

/** setTimeout's largest delay (about 24.8 days); later deadlines re-arm on the way. */
const MAX_DELAY_MS = 2 ** 31 - 1;
const RETRY_DELAY_MS = 1_000;

export interface LeaseSchedulerDeps {
  /** Epoch ms of the earliest open deadline, if any lease is open. */
  nextDeadlineMs(): number | undefined;
  /** End every lease whose deadline is at or before `nowMs`. */
  expireDue(nowMs: number): void;
  log: Logger;
  now?: () => number;
}

export class LeaseScheduler {
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private running = false;
  private readonly now: () => number;

  constructor(private readonly deps: LeaseSchedulerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Start expiring: first everything already due (e.g. while the server was down), then on time. */
  start(): void {
    this.running = true;
    this.tick();
  }

  /** Re-read the earliest deadline after a change; cheap when it did not move. */
  arm(): void {
    if (!this.running) return;
    const next = this.deps.nextDeadlineMs();
    if (next === this.armedFor && this.timer) return;
    this.clear();
    if (next === undefined) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, next - this.now()));
    this.armedFor = next;
    this.timer = setTimeout(() => this.tick(), delay);
    // The open HTTP socket keeps the process alive; this timer alone must not.
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    this.clear();
  }

  private tick(): void {
    this.clear();
    if (!this.running) return;
    try {
      this.deps.expireDue(this.now());
    } catch (err) {
      // Retry later rather than spinning on a deadline that keeps failing.
      this.deps.log.error("expiring session leases failed", { err });
      this.timer = setTimeout(() => this.tick(), RETRY_DELAY_MS);
      this.timer.unref();
      return;
    }
    this.arm();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }
}
