/**
 * The egress decision log (issue 17): every connection attempt and DNS query
 * of a sandbox, with the decision and the rule (or always-refused class) that
 * made it. Records are buffered and written in one transaction per flush, so
 * the proxy's hot path never waits for SQLite; retention is bounded twice: a
 * ring per sandbox (`keepPerSandbox` newest rows) and an age (`retentionMs`).
 * Denials are also handed to `onDenied` (the tenant's event stream).
 */
import type { EgressLogQuery, EgressLogRow, EgressLogStore, NewEgressLogRow } from "../store/egress-log-store.js";

export type EgressRecord = Omit<NewEgressLogRow, "at"> & { at?: string };

export interface EgressLogOptions {
  store: EgressLogStore;
  /** @default 1000 */
  keepPerSandbox?: number;
  /** @default 7 days */
  retentionMs?: number;
  /** How long records wait in memory before a flush. @default 250 */
  flushMs?: number;
  /** Records held in memory at most; past it the oldest unflushed are counted as dropped. @default 10000 */
  maxBuffered?: number;
  onDenied?(row: NewEgressLogRow): void;
}

export class EgressLog {
  private buffer: NewEgressLogRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAgeTrimMs = 0;
  /** Records dropped because the buffer was full (the log says so rather than pretending). */
  dropped = 0;

  constructor(private readonly options: EgressLogOptions) {}

  record(r: EgressRecord): void {
    const row: NewEgressLogRow = { ...r, at: r.at ?? new Date().toISOString() };
    if (row.decision === "denied") this.options.onDenied?.(row);
    if (this.buffer.length >= (this.options.maxBuffered ?? 10_000)) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(row);
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 250);
    this.timer.unref?.();
  }

  /** Writes what is buffered and trims what is past retention. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    if (rows.length === 0) return;
    const { store } = this.options;
    store.append(rows);
    const touched = new Set(rows.map((r) => `${r.tenantId}\0${r.sandboxId}`));
    for (const key of touched) {
      const [tenantId, sandboxId] = key.split("\0") as [string, string];
      store.trimSandbox(tenantId, sandboxId, this.options.keepPerSandbox ?? 1000);
    }
    const now = Date.now();
    if (now - this.lastAgeTrimMs > 60_000) {
      this.lastAgeTrimMs = now;
      store.trimOlderThan(new Date(now - (this.options.retentionMs ?? 7 * 24 * 3600 * 1000)).toISOString());
    }
  }

  /** A page of one sandbox's log, oldest first (what is still buffered is written first). */
  page(tenantId: string, sandboxId: string, q: EgressLogQuery): EgressLogRow[] {
    this.flush();
    return this.options.store.page(tenantId, sandboxId, q);
  }

  /** Rows matching `q` (from `q.after` on), what is buffered included. */
  count(tenantId: string, sandboxId: string, q: Omit<EgressLogQuery, "limit">): number {
    this.flush();
    return this.options.store.count(tenantId, sandboxId, q);
  }

  forget(tenantId: string, sandboxId: string): void {
    this.flush();
    this.options.store.deleteSandbox(tenantId, sandboxId);
  }

  close(): void {
    this.flush();
  }
}
