/**
 * One client reading a process's output, with the stdio channel's cursor
 * semantics: `opened` names the cursor it starts at (the asked one, clamped to
 * what exists; default: only new output), the bytes of [cursor, head) are
 * replayed from the log (a `gap` for bytes the log cap dropped), then live
 * output follows with no loss and no duplicate; each output event's `cursor`
 * is the offset after its bytes. Once the process ended and its output is all
 * handed on: `exit` with the code, then `closed`. A client more than
 * `maxPendingBytes` behind is cut off with `slow_reader` (it resumes from its
 * last cursor); process output is not held back for it.
 */
import type { ProcessStdio, StdPipe } from "../runtime/backend.js";
import type { ProcessView } from "./processes.js";

export type ProcessEvent =
  | { kind: "opened"; processId: string; cursor: number; oldestCursor: number; head: number; requestedCursor?: number }
  | { kind: "gap"; from: number; to: number; reason: "log_capped" }
  | { kind: StdPipe; data: Buffer; cursor: number }
  | { kind: "exit"; code: number; signal?: string; reason?: string }
  | { kind: "closed"; reason: string };

export interface ProcessSink {
  /** `flushed` once the event's bytes left for the client. */
  send(event: ProcessEvent, flushed: () => void): void;
  end(): void;
}

export const DEFAULT_PROCESS_MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** A replay reads the log only while the client has less than this outstanding. */
const REPLAY_LOW_WATER = 1024 * 1024;
/** How long an ended process's last output may take to be handed on. */
const EXIT_DRAIN_MS = 2_000;

export class ProcessOutput {
  done = false;
  private pending = 0;
  private replaying = true;
  private held: Array<{ pipe: StdPipe; data: Buffer; offset: number }> = [];
  private waiters: Array<() => void> = [];
  private unsubscribe?: () => void;

  constructor(
    private readonly processId: string,
    private readonly stdio: ProcessStdio,
    private readonly ended: Promise<ProcessView>,
    private readonly sink: ProcessSink,
    private readonly maxPending = DEFAULT_PROCESS_MAX_PENDING_BYTES,
    private readonly onDone: () => void = () => undefined,
  ) {}

  async begin(cursor: number | undefined): Promise<void> {
    const head = this.stdio.head;
    this.unsubscribe = this.stdio.subscribe({
      output: (pipe, data, offset) => {
        if (this.done) return;
        if (this.replaying) this.held.push({ pipe, data, offset });
        else this.emit(pipe, data, offset);
      },
      lost: () => this.finish("output_lost"),
    });
    const start = cursor === undefined ? head : Math.min(cursor, head);
    const oldest = Math.min(await this.stdio.oldestOffset(), head);
    if (this.done) return;
    this.sink.send(
      {
        kind: "opened",
        processId: this.processId,
        cursor: start,
        oldestCursor: oldest,
        head,
        ...(cursor !== undefined && cursor !== start ? { requestedCursor: cursor } : {}),
      },
      noop,
    );
    if (start < head) await this.replay(start, head);
    if (this.done) return;
    this.replaying = false;
    for (const h of this.held.splice(0)) this.emit(h.pipe, h.data, h.offset);
    void this.ended.then((v) => this.exited(v));
  }

  /** The client went away: stop sending (no frame). */
  detach(): void {
    this.cleanup();
  }

  finish(reason: string): void {
    if (this.done) return;
    this.sink.send({ kind: "closed", reason }, noop);
    this.cleanup();
    this.sink.end();
  }

  private async exited(v: ProcessView): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.stdio.ended, new Promise((r) => (timer = setTimeout(r, EXIT_DRAIN_MS)))]);
    clearTimeout(timer);
    if (this.done) return;
    this.sink.send({ kind: "exit", code: v.exitCode ?? -1, ...(v.signal ? { signal: v.signal } : {}), ...(v.reason ? { reason: v.reason } : {}) }, noop);
    this.finish("exited");
  }

  private async replay(from: number, to: number): Promise<void> {
    try {
      for await (const item of this.stdio.replay(from, to)) {
        if (this.done) return;
        if ("gap" in item) {
          this.sink.send({ kind: "gap", from: item.gap.from, to: item.gap.to, reason: "log_capped" }, noop);
          continue;
        }
        this.emit(item.pipe, item.data, item.offset);
        while (!this.done && this.pending > REPLAY_LOW_WATER) await new Promise<void>((r) => this.waiters.push(r));
      }
    } catch {
      if (!this.done) this.sink.send({ kind: "gap", from, to, reason: "log_capped" }, noop);
    }
  }

  private emit(pipe: StdPipe, data: Buffer, offset: number): void {
    if (this.done) return;
    this.pending += data.length;
    if (this.pending > this.maxPending) return this.finish("slow_reader");
    this.sink.send({ kind: pipe, data, cursor: offset + data.length }, () => {
      this.pending -= data.length;
      if (this.pending <= REPLAY_LOW_WATER) for (const w of this.waiters.splice(0)) w();
    });
  }

  private cleanup(): void {
    if (this.done) return;
    this.done = true;
    this.unsubscribe?.();
    this.held = [];
    for (const w of this.waiters.splice(0)) w();
    this.onDone();
  }
}

function noop(): void {}
