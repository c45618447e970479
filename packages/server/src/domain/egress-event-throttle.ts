/**
 * Bounds the `egress`/`denied` events one sandbox can put on its tenant's
 * event stream: at most `maxPerWindow` per `windowMs` (a window opens with a
 * sandbox's first denial after a quiet spell). Denials past that are not
 * sent one by one: when the window closes, one event carries the last of
 * them with `suppressedCount` (how many it stands for). A sandbox that
 * hammers a refused destination thus costs each watcher a few events a
 * second, not thousands; every denial is still in the decision log.
 */

export interface DenialThrottleOptions<Row extends object> {
  publish(tenantId: string, sandboxId: string, row: Row & { suppressedCount?: number }): void;
  /** @default 20 */
  maxPerWindow?: number;
  /** @default 1000 */
  windowMs?: number;
}

interface Window<Row extends object> {
  tenantId: string;
  sandboxId: string;
  sent: number;
  suppressed: number;
  last?: Row;
  timer: NodeJS.Timeout;
}

export const DENIED_EVENTS_PER_WINDOW = 20;
export const DENIED_EVENTS_WINDOW_MS = 1000;

export class DenialEventThrottle<Row extends object> {
  /** Open windows by `tenant/sandbox`; each removes itself when it closes. */
  private readonly windows = new Map<string, Window<Row>>();

  constructor(private readonly options: DenialThrottleOptions<Row>) {}

  offer(tenantId: string, sandboxId: string, row: Row): void {
    const key = `${tenantId}/${sandboxId}`;
    let w = this.windows.get(key);
    if (!w) {
      const timer = setTimeout(() => this.close(key), this.options.windowMs ?? DENIED_EVENTS_WINDOW_MS);
      timer.unref?.();
      w = { tenantId, sandboxId, sent: 0, suppressed: 0, timer };
      this.windows.set(key, w);
    }
    if (w.sent < (this.options.maxPerWindow ?? DENIED_EVENTS_PER_WINDOW)) {
      w.sent++;
      this.options.publish(tenantId, sandboxId, row);
    } else {
      w.suppressed++;
      w.last = row;
    }
  }

  /** Stops the timers (server shutdown); what is suppressed and unsent stays in the log only. */
  stop(): void {
    for (const w of this.windows.values()) clearTimeout(w.timer);
    this.windows.clear();
  }

  private close(key: string): void {
    const w = this.windows.get(key);
    this.windows.delete(key);
    if (w?.last !== undefined) this.options.publish(w.tenantId, w.sandboxId, { ...w.last, suppressedCount: w.suppressed });
  }
}
