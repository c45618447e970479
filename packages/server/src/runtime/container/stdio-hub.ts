/**
 * runtime/container/stdio-hub.ts — the stdio facet of the container backend:
 * one hub per running container, reading the main process's output from
 * conmon's log (LogTail) and fanning it out to every attached channel client,
 * with input from all of them serialised onto one attach-socket connection.
 *
 * Why the log and not the attach socket: conmon writes each 8 KiB chunk to its
 * log anyway, and every socket client adds a system call per chunk to conmon's
 * single thread, which is what limited throughput (bench/session-io). The input
 * connection is shut for reading, so conmon stops writing output to it.
 *
 * Cursors are logical byte offsets in the combined stdout+stderr stream since
 * the container started. The hub opens the log before the container is started
 * (the backend's create and start call `whileCreating`/`beforeStart`), so it counts every byte from 0; `head`
 * is the offset after the last byte handed on. A client resuming at cursor
 * c < head is replayed [c, head) from the log and then continues live from
 * head — no loss, no duplicate. The log is capped by conmon (--log-size-max),
 * which replaces the file when full; the hub keeps the current and the previous
 * file open (generations, with the logical offset of each one's first byte), so
 * the replay window is at least one cap. Older bytes are gone and are reported
 * as a gap, never silently skipped.
 *
 * Backpressure: a client that falls behind holds the hub (`hold`), which stops
 * reading the log and opens a connection to conmon that nobody reads; conmon
 * blocks on it once its buffer is full, and the process blocks on its stdout,
 * as with a pipe (attach.ts). The same connection holds conmon back while the
 * reader is far behind it, so conmon cannot replace a file the hub has not
 * opened yet (if it still does, clients are closed with `output_lost`). The
 * hub holds only while *every* attached client is behind: one fast client keeps
 * output flowing, and a slow one falls behind alone until the channel cuts it
 * off (issue 15, finding 9: paused readers used to stall every other reader).
 * A lone reader still gets the pipe-like backpressure.
 *
 * A full disk: conmon drops output it cannot write to its log, leaving no trace
 * in it. The facet watches the logs' filesystem (disk-full-watch.ts) and, each
 * time it becomes full, tells every reader the offset from which output may be
 * missing (`unrecorded`), as it does a new reader while the disk stays full.
 *
 * A hub created for a container that was already running (the server
 * restarted) cannot know what came before the current log file: its offsets
 * count from that file's first byte.
 */
import { openSync, closeSync, existsSync, writeSync, constants } from "node:fs";
import { dirname, basename } from "node:path";
import type { OutputSubscriber, ProcessStdio, ReplayItem, RuntimeLog, StdioFacet } from "../backend.js";
import { connectHold, connectInput, type AttachInput } from "./attach.js";
import { LogGeneration } from "./log-replay.js";
import { LogTail, type LogTailEvents } from "./log-tail.js";
import { LogRotations, type RotationSource } from "./log-rotations.js";
import { EntryWatch } from "../entry-watch.js";
import { DiskFullWatch } from "./disk-full-watch.js";

/** Where a container's stdio lives. */
export interface StdioPaths {
  attachSocket(id: string): string;
  log(id: string): string;
  /** conmon's control fifo: `1 <rows> <cols>\n` resizes the terminal. */
  ctl(id: string): string;
}

/**
 * How a hub reaches the process's stdin. The default is an input connection to
 * conmon's attach socket, which can also hold output back. A process whose
 * stdin must be closable (conmon without --leave-stdin-open closes stdin when
 * any attach connection ends) gets its own input and no connection of the hub's.
 */
export interface HubInput {
  open(): AttachInput;
  /** Whether the hub may hold output back through an attach connection nobody reads. */
  canHold: boolean;
  /** Closes the process's stdin (EOF) after the writes queued on `open()`'s input. */
  end(): Promise<void>;
}

export interface StdioHubsDeps {
  paths: StdioPaths;
  log: RuntimeLog;
  /** The directory holding the logs: watched for a full disk (disk-full-watch.ts). @default not watched */
  logsDir?: string;
  /** Each hub's stdin, when not the attach socket (undefined: the attach socket). */
  input?: (id: string) => HubInput | undefined;
}

/** Log files kept open for replay: the current one and the one before. */
const GENERATIONS_KEPT = 2;
/** How long attachDuringCreate waits between looks when no inotify event woke it. */
const ATTACH_LOOK_MS = 25;

export class StdioHub implements ProcessStdio {
  private input?: AttachInput;
  /** The connection nobody reads, open while output must wait (see the header). */
  private holdConn?: { close(): void };
  private tail?: LogTail;
  private readonly subscribers = new Set<OutputSubscriber>();
  private gens: LogGeneration[] = [];
  private endedResolve!: () => void;
  /** Resolves once the process's output is all handed on (after `drain`), or the hub is disposed. */
  readonly ended = new Promise<void>((r) => (this.endedResolve = r));
  isEnded = false;
  private disposed = false;
  /** Clients that asked the hub to stop reading until they catch up. */
  private readonly holders = new Set<object>();

  constructor(
    readonly id: string,
    private readonly paths: StdioPaths,
    private readonly log: RuntimeLog,
    private readonly rotations?: RotationSource,
    /** Whether the logs' disk is full now (a new subscriber is told at once). */
    private readonly diskFull: () => boolean = () => false,
    private readonly hubInput?: HubInput,
  ) {}

  /** Logical offset after the last byte handed on. */
  get head(): number {
    return this.tail?.head ?? 0;
  }

  /** Fresh container, not yet started: the first log file starts at offset 0. */
  async connectFromStart(): Promise<void> {
    this.open();
  }

  /** Running container: offsets count from the current log file's first byte; what it holds is read first. */
  async join(): Promise<void> {
    this.open();
    await this.tail!.drain();
  }

  private open(): void {
    this.input = this.hubInput ? this.hubInput.open() : connectInput(this.paths.attachSocket(this.id));
    try {
      const first = new LogGeneration(this.paths.log(this.id), Promise.resolve(0));
      this.gens = [first];
      const events: LogTailEvents = {
        output: (pipe, data, offset) => {
          for (const s of this.subscribers) s.output(pipe, data, offset);
        },
        entered: (gen) => {
          this.gens.push(gen);
          while (this.gens.length > GENERATIONS_KEPT) this.gens.shift()!.retire();
        },
        behind: () => this.updateHold(),
        lost: () => {
          this.log.warn("stdio: conmon replaced its log twice before the hub read it; a file of output is lost", { sandboxId: this.id });
          for (const s of this.subscribers) s.lost?.();
        },
      };
      this.tail = new LogTail(this.paths.log(this.id), first, 0, events, this.rotations);
      this.tail.wake();
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** conmon may be dropping output now (its log's disk is full): every reader is told where. */
  unrecorded(): void {
    for (const s of this.subscribers) s.unrecorded?.(this.head);
  }

  subscribe(s: OutputSubscriber): () => void {
    this.subscribers.add(s);
    if (this.diskFull()) s.unrecorded?.(this.head);
    // A new client that is not behind lets a hub held by all the others read again.
    if (this.holders.size > 0) this.updateHold();
    return () => {
      this.subscribers.delete(s);
      if (this.holders.size > 0) this.updateHold();
    };
  }

  /** Offset of the oldest byte still on disk. */
  async oldestOffset(): Promise<number> {
    return this.gens[0] ? await this.gens[0].base : this.head;
  }

  /**
   * The bytes of [from, to) still on disk, in order. A `gap` item stands for bytes the
   * log no longer has (its cap dropped them), so callers can say so.
   */
  async *replay(from: number, to: number): AsyncGenerator<ReplayItem> {
    const gens = [...this.gens];
    let at = from;
    for (let i = 0; i < gens.length && at < to; i++) {
      const base = await gens[i]!.base;
      const nextBase = i + 1 < gens.length ? await gens[i + 1]!.base : to;
      if (nextBase <= at) continue;
      if (base > at) {
        yield { gap: { from: at, to: Math.min(base, to) } };
        at = Math.min(base, to);
      }
      for await (const chunk of gens[i]!.range(at, Math.min(nextBase, to))) {
        if (chunk.offset > at) yield { gap: { from: at, to: chunk.offset } };
        yield chunk;
        at = chunk.offset + chunk.data.length;
      }
    }
    if (at < to) yield { gap: { from: at, to } };
  }

  /** Input from any client, in arrival order. */
  write(data: Buffer): Promise<void> {
    if (!this.input || this.input.closed || this.isEnded) return Promise.reject(new Error("the container's stdio is closed"));
    return this.input.write(data);
  }

  /** EOF, where the input can deliver it: writes after it fail. */
  async endInput(): Promise<boolean> {
    if (!this.hubInput) return false;
    await this.hubInput.end();
    return true;
  }

  /** This client is behind; output stops only once every client is (see the header). */
  hold(who: object): void {
    if (!this.holders.has(who)) {
      this.holders.add(who);
      this.updateHold();
    }
  }

  release(who: object): void {
    if (this.holders.delete(who)) this.updateHold();
  }

  /** Every attached client is behind: nobody could take more output now. */
  private get allBehind(): boolean {
    return this.holders.size > 0 && [...this.subscribers].every((s) => this.holders.has(s.holder ?? s));
  }

  /** The process stopped: hand on the rest of its output, then end (at most graceMs for a held hub). */
  async drain(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    if (this.tail) await Promise.race([this.tail.drain(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.onEnd();
  }

  /** Terminal resize through conmon's control fifo (ignored for pipe stdio). */
  resize(rows: number, cols: number): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.paths.ctl(this.id), constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, `1 ${rows} ${cols}\n`);
    } catch (err) {
      this.log.debug("stdio: resize failed", { sandboxId: this.id, err });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.input?.close();
    this.holdConn?.close();
    this.holdConn = undefined;
    this.tail?.close();
    for (const g of this.gens) g.retire();
    this.gens = [];
    this.subscribers.clear();
    this.holders.clear();
    this.onEnd();
  }

  /** Output waits while a client holds the hub or the reader is far behind conmon. */
  private updateHold(): void {
    if (this.disposed) return;
    const held = this.allBehind;
    this.tail?.pause(held);
    const hold = (held || !!this.tail?.isBehind) && (this.hubInput?.canHold ?? true);
    if (hold && !this.holdConn) {
      try {
        this.holdConn = connectHold(this.paths.attachSocket(this.id));
      } catch (err) {
        this.log.debug("stdio: could not hold the output back (conmon is gone)", { sandboxId: this.id, err });
      }
    } else if (!hold && this.holdConn) {
      this.holdConn.close();
      this.holdConn = undefined;
    }
  }

  private onEnd(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.endedResolve();
  }
}

/** Every hub of this backend, by container id. */
export class StdioHubs implements StdioFacet {
  private readonly hubs = new Map<string, StdioHub>();
  private readonly joining = new Map<string, Promise<StdioHub>>();
  /** Hubs connected while their container was being created, waiting for its start. */
  private readonly created = new Map<string, StdioHub>();
  /** Wakes attachDuringCreate when conmon makes a container's link in the sockets dir. */
  private socketLinks: EntryWatch | undefined;
  /** Opens each replaced log file at once, for every hub (log-rotations.ts says why). */
  private readonly rotations = new LogRotations();
  private readonly diskWatch?: DiskFullWatch;
  private readonly isDiskFull = () => this.diskWatch?.isFull ?? false;
  private closed = false;

  constructor(private readonly deps: StdioHubsDeps) {
    if (deps.logsDir) {
      this.diskWatch = new DiskFullWatch(deps.logsDir, () => {
        deps.log.warn("stdio: the disk holding the container logs is full; output written now may be lost", { dir: deps.logsDir });
        for (const h of this.hubs.values()) h.unrecorded();
      });
      this.diskWatch.start();
    }
    try {
      this.rotations.start();
    } catch (err) {
      deps.log.warn("stdio: no worker for log replacements; the event loop looks for them", { err });
    }
  }

  /**
   * Attaches a hub while the container is being created: conmon opens its
   * attach socket before it runs `<runtime> create`, so the hub connects off the
   * start path; `beforeStart` installs it (or attaches then, if this did not
   * work out). Resolves or rejects as `made` does.
   */
  async whileCreating(id: string, made: Promise<void>): Promise<void> {
    const early = this.attachDuringCreate(id, made);
    try {
      await made;
    } catch (err) {
      void early.then((hub) => hub?.dispose());
      throw err;
    }
    const hub = await early;
    if (hub) this.created.set(id, hub);
  }

  /** Right before the container's process starts: its hub reads from byte 0. */
  async beforeStart(id: string): Promise<void> {
    const hub = this.created.get(id);
    this.created.delete(id);
    if (hub && !this.closed) {
      this.hubs.get(id)?.dispose();
      this.hubs.set(id, hub);
    } else {
      hub?.dispose();
      await this.attachBeforeStart(id);
    }
  }

  /** A container deleted without being started (stopped during its launch) drops its early hub. */
  dropCreated(id: string): void {
    this.created.get(id)?.dispose();
    this.created.delete(id);
  }

  /**
   * Connects as soon as conmon's attach socket exists, until `made` settles;
   * undefined if it never did. conmon links `<sockets dir>/<id>` to the bundle
   * right before it binds the socket there, so the link's creation is the cue.
   */
  private async attachDuringCreate(id: string, made: Promise<void>): Promise<StdioHub | undefined> {
    let settled = false;
    const over = made.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    const socket = this.deps.paths.attachSocket(id);
    const link = dirname(socket);
    this.socketLinks ??= new EntryWatch(dirname(link));
    while (!settled && !this.closed) {
      if (existsSync(socket)) {
        const hub = new StdioHub(id, this.deps.paths, this.deps.log, this.rotations, this.isDiskFull, this.deps.input?.(id));
        try {
          await hub.connectFromStart();
          return hub;
        } catch {
          hub.dispose(); // bound but not listening yet: a moment more
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
      }
      await Promise.race([this.socketLinks.nextEvent(basename(link), ATTACH_LOOK_MS), over]);
    }
    return undefined;
  }

  private async attachBeforeStart(id: string): Promise<void> {
    if (this.closed) return;
    const hub = new StdioHub(id, this.deps.paths, this.deps.log, this.rotations, this.isDiskFull, this.deps.input?.(id));
    try {
      await hub.connectFromStart();
      this.hubs.get(id)?.dispose();
      this.hubs.set(id, hub);
    } catch (err) {
      hub.dispose();
      this.deps.log.warn("stdio: could not attach before start; a later attach will join the running output", { sandboxId: id, err });
    }
  }

  /** The hub of a running sandbox, joining its output if this server did not start it. */
  async acquire(id: string): Promise<StdioHub> {
    const hub = this.hubs.get(id);
    if (hub && !hub.isEnded) return hub;
    const pending = this.joining.get(id);
    if (pending) return pending;
    const p = (async () => {
      const h = new StdioHub(id, this.deps.paths, this.deps.log, this.rotations, this.isDiskFull, this.deps.input?.(id));
      try {
        await h.join();
      } catch (err) {
        h.dispose();
        throw err;
      }
      if (this.closed) {
        h.dispose();
        throw new Error("the server is shutting down");
      }
      this.hubs.get(id)?.dispose();
      this.hubs.set(id, h);
      return h;
    })().finally(() => this.joining.delete(id));
    this.joining.set(id, p);
    return p;
  }

  /** The sandbox stopped: once its last output is handed on (or after a grace), free the hub. */
  retire(id: string, graceMs = 5_000): void {
    const hub = this.hubs.get(id);
    if (!hub) return;
    void hub.drain(graceMs).then(() => {
      if (this.hubs.get(id) === hub) this.hubs.delete(id);
      hub.dispose();
    });
  }

  get(id: string): StdioHub | undefined {
    return this.hubs.get(id);
  }

  close(): void {
    this.closed = true;
    this.diskWatch?.stop();
    this.socketLinks?.close();
    for (const h of [...this.hubs.values(), ...this.created.values()]) h.dispose();
    void this.rotations.close();
    this.hubs.clear();
    this.created.clear();
  }
}
