/**
 * The stdio channel of sessions: an attachment is one client reading the
 * sandbox's main process output (replayed from a cursor, then live) and
 * writing its stdin, over whatever transport the API chose (NDJSON or
 * WebSocket), which only maps these events to frames.
 *
 * Rules: the session must be open, list `stdio`, and its target be `ready`
 * (else op.conflict); another tenant's session is not found. The attachment
 * ends with `closed` naming the reason when the lease ends (closed, expired,
 * target stopped), preceded by `exit` with the code when the process exited.
 * A client that falls behind pushes back: past `HOLD_BYTES` not yet handed
 * to it, it holds the hub, which stops reading once every attached client
 * holds it (a lone reader blocks the process on its output, as with a pipe;
 * a slow reader beside a fast one just falls behind alone). A client that
 * takes nothing for `stallMs` while behind (or is `maxPendingBytes` behind)
 * is cut off with `slow_reader`. If output
 * was lost before the server read it (LogTail's `lost`), every client is
 * closed with `output_lost` rather than shown a stream with a hole. When the
 * log's disk fills up (conmon then drops output), each client gets a `gap`
 * with reason `disk_full` at the offset from which output may be missing.
 * Channel I/O never extends the lease.
 */
import type { Logger } from "../log.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import type { SessionRow } from "../store/session-store.js";
import type { ProcessStdio, StdioFacet, StdPipe } from "../runtime/backend.js";
import { AppError } from "./errors.js";
import type { Sessions } from "./sessions.js";
import { NO_ACTIVITY, type SandboxActivity } from "./sandbox-activity.js";
import { TERMINAL_STATES } from "./sandbox-state.js";

export type ChannelEvent =
  | { kind: "opened"; channel: "stdio"; targetGeneration: number; cursor: number; oldestCursor: number; head: number; requestedCursor?: number }
  | { kind: "gap"; from: number; to: number; reason: "log_capped" | "disk_full" }
  | { kind: StdPipe; data: Buffer; cursor: number }
  | { kind: "exit"; code: number }
  | { kind: "closed"; reason: string };

/** A transport's side of an attachment. */
export interface ChannelSink {
  /** Send one event; `flushed` is called once an output event's bytes left for the client. */
  send(event: ChannelEvent, flushed: () => void): void;
  /** Close the transport after the last event. */
  end(): void;
}

export interface StdioChannelsDeps {
  sessions: Pick<Sessions, "find" | "onClosed">;
  sandboxes: { find(tenantId: string, id: string): SandboxRow | undefined };
  hubs: StdioFacet;
  log: Logger;
  /** Told of every attach and stdin write: the sandbox is in use (idle timeout). */
  activity?: SandboxActivity;
  /** Output bytes not yet handed to a client before it is cut off as a slow reader. @default 8 MiB */
  maxPendingBytes?: number;
  /** How long a client that holds the output back may take nothing before it is cut off. @default 5000 */
  stallMs?: number;
}

export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;
export const DEFAULT_STALL_MS = 5_000;
/** A client with more than this outstanding holds the hub (stops reading the process's output)… */
const HOLD_BYTES = 1024 * 1024;
/** …until it is down to this. */
const RELEASE_BYTES = 256 * 1024;
/** A replay reads the log only while the client has less than this outstanding. */
const REPLAY_LOW_WATER = 1024 * 1024;
/** Live chunks of one stream are joined up to this size within one event-loop turn (fewer frames to encode). */
const COALESCE_BYTES = 256 * 1024;
/** How long an exiting process's last output may take to arrive before `exit` is sent. */
const EXIT_DRAIN_MS = 2_000;

export class StdioChannels {
  private readonly bySession = new Map<string, Set<Attachment>>();
  private readonly maxPending: number;
  private readonly stallMs: number;
  private unsubscribe?: () => void;
  private readonly activity: SandboxActivity;
  /**
   * The sandbox a session's stdin goes to, once `check` passed for it, until
   * the lease stops being open (`onClosed`) or the sandbox changes at all
   * (`onSandboxChange`): the only ways its answer can change. Without it every
   * write (one per keystroke) read the session and the sandbox from the store,
   * 20-45 µs each on the bench VM, a fifth of a 1-byte round trip
   * (bench/session-io). Keyed by tenant and session, so another tenant's id
   * never finds an entry; used only once `start` listens for closed leases.
   */
  private readonly inputTargets = new Map<string, SandboxRow>();

  constructor(private readonly deps: StdioChannelsDeps) {
    this.activity = deps.activity ?? NO_ACTIVITY;
    this.maxPending = deps.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.stallMs = deps.stallMs ?? DEFAULT_STALL_MS;
  }

  start(): void {
    this.unsubscribe = this.deps.sessions.onClosed((e) => {
      this.inputTargets.delete(key(e.tenantId, e.sessionId));
      for (const a of this.bySession.get(key(e.tenantId, e.sessionId)) ?? []) void a.leaseEnded(e.reason);
    });
  }

  /** A sandbox left `ready`: free its hub once its last output is in. */
  onSandboxChange(row: SandboxRow): void {
    // Few entries, and sandboxes change seldom (state transitions, not IO).
    for (const [k, target] of this.inputTargets) if (target.id === row.id && target.tenantId === row.tenantId) this.inputTargets.delete(k);
    if (TERMINAL_STATES.includes(row.lifecycleState)) this.deps.hubs.retire(row.id);
  }

  /** Checks the session, then sends `opened` and starts the flow. Throws AppError before anything is sent. */
  async attach(tenantId: string, sessionId: string, opts: { cursor?: number }, sink: ChannelSink): Promise<StdioAttachment> {
    const { sandbox } = this.check(tenantId, sessionId);
    const hub = await this.hub(sandbox);
    // The lease may have ended while we connected.
    const again = this.check(tenantId, sessionId);
    const a = new Attachment(this, hub, sink, again.session, again.sandbox, { maxPending: this.maxPending, stallMs: this.stallMs }, this.deps.log);
    this.activity.touch(tenantId, again.sandbox.id);
    const k = key(tenantId, sessionId);
    let set = this.bySession.get(k);
    if (!set) this.bySession.set(k, (set = new Set()));
    set.add(a);
    a.begin(opts.cursor);
    return a;
  }

  /** The checks of `attach` (and connecting to the output), for transports that must answer before attaching. */
  async prepare(tenantId: string, sessionId: string): Promise<void> {
    const { sandbox } = this.check(tenantId, sessionId);
    await this.hub(sandbox);
  }

  /**
   * Bytes for the process's stdin, in order with every other writer; with
   * `eof`, then end of input, where the sandbox was created with a closable
   * stdin (`eofDelivered` says whether it was).
   */
  async input(tenantId: string, sessionId: string, data: Buffer, eof = false): Promise<{ eofDelivered?: boolean }> {
    const sandbox = this.inputTarget(tenantId, sessionId);
    const hub = await this.hub(sandbox);
    if (data.length === 0 && !eof) return {};
    this.activity.touch(tenantId, sandbox.id);
    try {
      if (data.length > 0) await hub.write(data);
      return eof ? { eofDelivered: await hub.endInput() } : {};
    } catch (err) {
      throw new AppError(
        "op.conflict",
        `the stdin of sandbox \`${sandbox.id}\` is closed (end of input was sent, or its process is ending); open a new session once it runs again`,
        { detail: { sandboxId: sandbox.id }, cause: err },
      );
    }
  }

  /** Resize the sandbox's terminal (no effect for pipe stdio). */
  async resize(tenantId: string, sessionId: string, rows: number, cols: number): Promise<void> {
    const { sandbox } = this.check(tenantId, sessionId);
    (await this.hub(sandbox)).resize(rows, cols);
  }

  /** Server shutdown: every attachment ends with `closed: server_shutdown`. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.inputTargets.clear();
    for (const set of this.bySession.values()) for (const a of set) a.finish("server_shutdown");
  }

  /** @internal */
  forget(a: Attachment, tenantId: string, sessionId: string): void {
    const k = key(tenantId, sessionId);
    const set = this.bySession.get(k);
    set?.delete(a);
    if (set?.size === 0) this.bySession.delete(k);
  }

  /** @internal */
  exitCodeOf(sandbox: SandboxRow): number | undefined {
    const row = this.deps.sandboxes.find(sandbox.tenantId, sandbox.id);
    if (!row || !TERMINAL_STATES.includes(row.lifecycleState)) return undefined;
    return row.exitCode ?? undefined;
  }

  /** `check`'s sandbox for a stdin write, remembered (see `inputTargets`). */
  private inputTarget(tenantId: string, sessionId: string): SandboxRow {
    const k = key(tenantId, sessionId);
    const known = this.inputTargets.get(k);
    if (known) return known;
    const { sandbox } = this.check(tenantId, sessionId);
    if (this.unsubscribe) this.inputTargets.set(k, sandbox);
    return sandbox;
  }

  private check(tenantId: string, sessionId: string): { session: SessionRow; sandbox: SandboxRow } {
    const session = this.deps.sessions.find(tenantId, sessionId);
    if (!session)
      throw new AppError("op.not_found", `session \`${sessionId}\` was not found for tenant \`${tenantId}\``, { detail: { kind: "session", id: sessionId } });
    if (session.lifecycleState !== "open") {
      throw new AppError(
        "op.conflict",
        `session \`${sessionId}\` is ${session.lifecycleState}${session.closeReason ? ` (${session.closeReason})` : ""}; open a new session to attach`,
        {
          detail: { id: sessionId, lifecycleState: session.lifecycleState },
        },
      );
    }
    if (!session.channels.includes("stdio")) {
      throw new AppError(
        "op.conflict",
        `session \`${sessionId}\` was opened with channels ${session.channels.join(", ")}, not stdio; open a session that lists \`stdio\``,
        {
          detail: { id: sessionId, channel: "stdio", channels: session.channels },
        },
      );
    }
    const sandbox = this.deps.sandboxes.find(tenantId, session.targetSandboxId);
    if (!sandbox || sandbox.lifecycleState !== "ready") {
      throw new AppError("op.conflict", "stdio requires a ready sandbox target", {
        detail: { sandboxId: session.targetSandboxId, lifecycleState: sandbox?.lifecycleState ?? "missing" },
      });
    }
    return { session, sandbox };
  }

  private async hub(sandbox: SandboxRow): Promise<ProcessStdio> {
    try {
      return await this.deps.hubs.acquire(sandbox.id);
    } catch (err) {
      this.deps.log.warn("stdio: attach socket not reachable", { sandboxId: sandbox.id, err });
      throw new AppError(
        "service.unavailable",
        `the stdio of sandbox \`${sandbox.id}\` is not reachable right now; retry, or check that the sandbox is running`,
        {
          detail: { sandboxId: sandbox.id },
          cause: err,
        },
      );
    }
  }
}

function key(tenantId: string, sessionId: string): string {
  return `${tenantId}\u0000${sessionId}`;
}

/** What the transports hold: input and control go through the channel, not here. */
export interface StdioAttachment {
  /** The client went away: stop sending (no frame). */
  detach(): void;
  readonly done: boolean;
}

class Attachment implements StdioAttachment {
  done = false;
  private pending = 0;
  private replaying = false;
  private held: Array<{ pipe: StdPipe; data: Buffer; offset: number } | { unrecordedAt: number }> = [];
  private acc?: { pipe: StdPipe; parts: Buffer[]; bytes: number; offset: number };
  private flushScheduled = false;
  private drainWaiters: Array<() => void> = [];
  private unsubscribe?: () => void;
  private replayDone: Promise<void> = Promise.resolve();
  private ending = false;
  /** This client holds the hub (it is more than HOLD_BYTES behind). */
  private holding = false;
  private progressAt = 0;
  private stallTimer?: NodeJS.Timeout;

  constructor(
    private readonly owner: StdioChannels,
    private readonly hub: ProcessStdio,
    private readonly sink: ChannelSink,
    private readonly session: SessionRow,
    private readonly sandbox: SandboxRow,
    private readonly limits: { maxPending: number; stallMs: number },
    private readonly log: Logger,
  ) {}

  begin(cursor: number | undefined): void {
    const head = this.hub.head;
    // Live output (and a disk_full the hub reports on subscribe) is held until `opened` (and any replay) went out.
    this.replaying = true;
    this.unsubscribe = this.hub.subscribe({
      output: (pipe, data, offset) => this.live(pipe, data, offset),
      lost: () => this.finish("output_lost"),
      unrecorded: (offset) => this.unrecorded(offset),
      holder: this,
    });
    const start = cursor === undefined ? head : Math.min(cursor, head);
    void this.hub.oldestOffset().then((oldest) => {
      if (this.done) return;
      this.sink.send(
        {
          kind: "opened",
          channel: "stdio",
          targetGeneration: this.sandbox.generation,
          cursor: start,
          oldestCursor: Math.min(oldest, head),
          head,
          ...(cursor !== undefined && cursor !== start ? { requestedCursor: cursor } : {}),
        },
        noop,
      );
      if (start < head) this.replayDone = this.replay(start, head);
      else {
        this.replaying = false;
        this.flushHeld();
      }
    });
  }

  detach(): void {
    this.cleanup();
  }

  /** The lease ended: `exit` first when the process is what ended, then `closed`. */
  async leaseEnded(reason: string): Promise<void> {
    if (this.done || this.ending) return;
    this.ending = true;
    const code = this.owner.exitCodeOf(this.sandbox);
    if (code !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.hub.ended, new Promise((r) => (timer = setTimeout(r, EXIT_DRAIN_MS)))]);
      clearTimeout(timer);
      await Promise.race([this.replayDone, new Promise((r) => (timer = setTimeout(r, EXIT_DRAIN_MS)))]);
      clearTimeout(timer);
      if (this.done) return;
      this.flushHeld();
      this.flushAcc();
      this.sink.send({ kind: "exit", code }, noop);
    }
    this.finish(reason);
  }

  /** Send `closed` with the reason and end the transport. */
  finish(reason: string): void {
    if (this.done) return;
    if (reason !== "slow_reader") this.flushAcc();
    this.sink.send({ kind: "closed", reason }, noop);
    this.cleanup();
    this.sink.end();
  }

  private cleanup(): void {
    if (this.done) return;
    this.done = true;
    this.unsubscribe?.();
    this.held = [];
    this.acc = undefined;
    clearTimeout(this.stallTimer);
    if (this.holding) this.hub.release(this);
    this.holding = false;
    for (const w of this.drainWaiters.splice(0)) w();
    this.owner.forget(this, this.session.tenantId, this.session.id);
  }

  private live(pipe: StdPipe, data: Buffer, offset: number): void {
    if (this.done) return;
    if (this.replaying) {
      this.held.push({ pipe, data, offset });
      this.pending += data.length;
      this.checkPressure();
      return;
    }
    this.queue(pipe, data, offset);
  }

  private async replay(from: number, to: number): Promise<void> {
    try {
      for await (const item of this.hub.replay(from, to)) {
        if (this.done) return;
        if ("gap" in item) {
          this.flushAcc();
          this.sink.send({ kind: "gap", from: item.gap.from, to: item.gap.to, reason: "log_capped" }, noop);
          continue;
        }
        this.emit(item.pipe, item.data, item.offset);
        while (!this.done && this.pending > REPLAY_LOW_WATER) await new Promise<void>((r) => this.drainWaiters.push(r));
      }
    } catch (err) {
      this.log.warn("stdio: replay from the log failed", { sandboxId: this.sandbox.id, err });
      if (!this.done) this.sink.send({ kind: "gap", from, to, reason: "log_capped" }, noop);
    }
    if (this.done) return;
    this.replaying = false;
    this.flushHeld();
  }

  private flushHeld(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if ("unrecordedAt" in h) {
        this.unrecorded(h.unrecordedAt);
        continue;
      }
      this.pending -= h.data.length;
      this.queue(h.pipe, h.data, h.offset);
    }
  }

  /**
   * The disk holding the log is full: conmon drops what it cannot write, so
   * output from `offset` on may be missing. A zero-length gap says where, since
   * bytes never written have no offsets of their own.
   */
  private unrecorded(offset: number): void {
    if (this.done) return;
    if (this.replaying) {
      this.held.push({ unrecordedAt: offset });
      return;
    }
    this.flushAcc();
    this.sink.send({ kind: "gap", from: offset, to: offset, reason: "disk_full" }, noop);
  }

  /** Joins chunks of one stream within an event-loop turn (fewer, larger frames). */
  private queue(pipe: StdPipe, data: Buffer, offset: number): void {
    // A chunk that would take the frame past COALESCE_BYTES starts the next one: LogTail's
    // chunks are up to a block (256 KiB) each, and joining two would copy both.
    if (this.acc && (this.acc.pipe !== pipe || this.acc.bytes + data.length > COALESCE_BYTES)) this.flushAcc();
    if (!this.acc) this.acc = { pipe, parts: [], bytes: 0, offset };
    this.acc.parts.push(data);
    this.acc.bytes += data.length;
    this.pending += data.length;
    if (this.checkPressure()) return;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushAcc();
      });
    }
  }

  private flushAcc(): void {
    const acc = this.acc;
    if (!acc || this.done) return;
    this.acc = undefined;
    this.pending -= acc.bytes;
    this.emit(acc.pipe, acc.parts.length === 1 ? acc.parts[0]! : Buffer.concat(acc.parts, acc.bytes), acc.offset);
  }

  private emit(pipe: StdPipe, data: Buffer, offset: number): void {
    this.pending += data.length;
    if (this.checkPressure()) return;
    this.sink.send({ kind: pipe, data, cursor: offset + data.length }, () => {
      this.pending -= data.length;
      this.progressAt = Date.now();
      if (this.holding && this.pending <= RELEASE_BYTES) {
        this.holding = false;
        clearTimeout(this.stallTimer);
        this.hub.release(this);
      }
      if (this.pending <= REPLAY_LOW_WATER) for (const w of this.drainWaiters.splice(0)) w();
    });
  }

  /** Holds the hub once this client is behind; cuts it off past the hard limit. True when cut off. */
  private checkPressure(): boolean {
    if (this.done) return true;
    if (this.pending > this.limits.maxPending) {
      this.slow();
      return true;
    }
    if (!this.holding && this.pending > HOLD_BYTES) {
      this.holding = true;
      this.progressAt = Date.now();
      this.hub.hold(this);
      this.armStall(this.limits.stallMs);
    }
    return false;
  }

  /** While holding: cut off once nothing was taken for stallMs. */
  private armStall(ms: number): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      if (!this.holding || this.done) return;
      const idleMs = Date.now() - this.progressAt;
      if (idleMs >= this.limits.stallMs) this.slow();
      else this.armStall(this.limits.stallMs - idleMs);
    }, ms);
    this.stallTimer.unref();
  }

  private slow(): void {
    this.log.info("stdio: client cut off as a slow reader", { sandboxId: this.sandbox.id, sessionId: this.session.id, pendingBytes: this.pending });
    this.finish("slow_reader");
  }
}

function noop(): void {}
