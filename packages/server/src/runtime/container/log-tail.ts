// runtime/container/log-tail.ts — follows conmon's k8s-file log as it grows and
// across the replacements --log-size-max makes, handing on the payload bytes in
// order with their logical offsets. This is how the server reads a container's
// output: conmon writes every chunk to its log anyway, and reading that file in
// large blocks costs conmon nothing, where every attach-socket client costs it a
// system call per 8 KiB chunk (attach.ts).
//
// Wake-ups come from inotify on the log's directory (a write is `change`, a
// replacement is `rename`), so an idle container costs nothing. While output
// streams, the tail closes that watch and polls every millisecond instead
// (`pace`): an event per write costs conmon and this thread more than the poll. Reads are
// synchronous: the file was just written, so they are page-cache copies of at
// most one block, and they save the thread-pool round trip on every chunk of a
// round trip through `cat`. A turn reads at most TURN_BYTES, then yields.
//
// Replacement: conmon writes the full file, renames a fresh one over it, and only
// then writes to the new one (it is single-threaded). So once a new inode is at
// the path, one more read of the old file to its end gets all of it. The new file
// is taken as soon as it appears, by a RotationSource's worker thread when there
// is one (log-rotations.ts), else here (a rename event, or a stat at the end of
// the file), and kept in `ahead` until the reader gets there.
//
// Nothing slows conmon down while the reader keeps up, which is the point; but a
// file replaced twice before the middle one was taken would be gone. So when a
// turn ends with more left to read, the tail measures how far conmon is ahead
// and reports `behind` past HOLD_LEAD_BYTES (the caller then holds conmon back,
// attach.ts), far less than a file. Measuring only then keeps the common case,
// a reader that reaches the end every turn, free of extra system calls. The
// worker can be late too: on a loaded 2-core host its wake-up took 10 ms and
// more, at times longer than conmon takes to fill a file. A turn that was woken
// but found nothing to read (conmon writes elsewhere) counts the file at the path
// that the worker has not handed over yet in that lead, so conmon is held until
// it has. Should a file still be lost, the rename events outnumber the files
// taken (counted by the worker, or here without one), and `lost` says so.

import { closeSync, existsSync, fstatSync, readSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { StdPipe } from "./attach.js";
import { LogGeneration } from "./log-replay.js";
import { parseRecords } from "./k8s-log.js";
import type { RotationSource } from "./log-rotations.js";

/** Bytes per read. conmon's records are at most ~8.3 KiB, so a block always holds a whole one. */
const BLOCK = 256 * 1024;
/** Bytes read per event-loop turn before yielding to other work. */
const TURN_BYTES = 1024 * 1024;
/** With no inotify, how often to look for new output. */
const POLL_MS = 50;
/** While draining, how long to wait for a replacement the worker has not handed over yet. */
const DRAIN_RETRY_MS = 5;
/** Without a rename event, look for a replaced file after this many bytes anyway. */
const ROTATION_CHECK_BYTES = 1024 * 1024;
/** The reader is `behind` once conmon has written this much it has not read… */
const HOLD_LEAD_BYTES = 2 * 1024 * 1024;
/** …until it is down to this. */
const RELEASE_LEAD_BYTES = 256 * 1024;
/**
 * How long conmon is held for a file the worker has not handed over. Its wake-up
 * lags by up to ~100 ms on a loaded host; a link it cannot make at all (a full
 * disk) must not freeze the process for good: the file is reported lost instead.
 */
const UNCLAIMED_HOLD_MS = 2_000;
/** Output that streams at this much within STREAM_WINDOW_MS is polled for, not watched… */
const STREAM_ENTER_BYTES = 256 * 1024;
const STREAM_WINDOW_MS = 2;
const STREAM_POLL_MS = 1;
/** …until a poll finds less than this (about half the rate that starts it). */
const STREAM_EXIT_BYTES = 64 * 1024;
const NEWLINE = Buffer.from("\n");

/** Reads are synchronous, so one block serves every tail; a nested read gets its own. */
let sharedBlock: Buffer | undefined;
let sharedBlockBusy = false;

export interface LogTailEvents {
  /** Payload of one pipe; `offset` is the logical offset of data[0]. */
  output(pipe: StdPipe, data: Buffer, offset: number): void;
  /** The reader moved on to a newer file (whose `base` is now known). */
  entered(gen: LogGeneration): void;
  /** conmon is far ahead of the reader (true), or no longer (false): hold it back meanwhile. */
  behind(behind: boolean): void;
  /** A replaced file was gone before it could be opened: its bytes are not in the stream. */
  lost(): void;
}

export class LogTail {
  /** Logical offset after the last payload byte handed on. */
  head: number;
  isBehind = false;
  private gen: LogGeneration;
  /** Byte position in `gen`'s file. */
  private pos = 0;
  /** An incomplete record at the end of what was read (its writer is still writing it). */
  private carry: Buffer | undefined;
  private readonly ahead: Array<{ gen: LogGeneration; setBase(base: number): void }> = [];
  /** The current file was seen replaced: the next pass to its end is the last. */
  private finalPass = false;
  /** Rename events for the log's name (one per replacement), and replacements opened. */
  private renamesSeen = 0;
  private filesOpened = 0;
  private rotationHint = false;
  private sinceCheck = 0;
  private paused = false;
  private turnScheduled = false;
  private closed = false;
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];
  /** Output streams: the watch is closed and the file polled (see `pace`). */
  private streaming = false;
  private streamPoll?: NodeJS.Timeout;
  /** Bytes read since the last `pace`, and within the current window while watching. */
  private flow = 0;
  private windowBytes = 0;
  private windowStart = 0;
  private draining = false;
  /** The file at the path the worker has not handed over, and since when it is counted in the lead. */
  private unclaimedIno = 0;
  private unclaimedSinceMs = 0;
  /** Looks again once that time is up (conmon, held, writes nothing that would wake the tail). */
  private unclaimedTimer?: NodeJS.Timeout;
  /** Set while a RotationSource opens the replacements (then this thread never opens by path). */
  private stopRotations?: () => void;

  /** `rotations`: a worker that opens replacements at once; without one, this thread looks for them. */
  constructor(
    private readonly path: string,
    first: LogGeneration,
    startHead: number,
    private readonly events: LogTailEvents,
    rotations?: RotationSource,
  ) {
    this.gen = first;
    this.head = startHead;
    try {
      this.stopRotations = rotations?.watch(path, first.ino, {
        file: (fd) => {
          if (this.closed) return closeSync(fd);
          this.addReplacement(fd);
          this.wake();
        },
        lost: () => this.events.lost(),
        unavailable: () => (this.stopRotations = undefined),
      });
    } catch {
      this.stopRotations = undefined;
    }
    this.watchDir();
  }

  /** Reads whatever is new now (e.g. right after construction, to catch up). */
  wake(): void {
    if (!this.turnScheduled) this.turn();
  }

  /** Stops handing on output (true) until resumed; the bytes wait in the file. */
  pause(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    if (!paused && !this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => this.turn());
    }
  }

  /** Resolves once everything written so far was handed on (the writer has stopped). */
  drain(): Promise<void> {
    this.draining = true;
    this.rotationHint = true;
    const done = new Promise<void>((r) => this.drainWaiters.push(r));
    this.wake();
    return done;
  }

  /** Stops reading; the generations it entered belong to the caller, waiting ones are closed here. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.draining = false;
    this.stopRotations?.();
    this.stopRotations = undefined;
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.streamPoll);
    clearTimeout(this.unclaimedTimer);
    for (const a of this.ahead.splice(0)) a.gen.retire();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Wakes on every change in the log's directory (writes and replacements). */
  private watchDir(): void {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), (event, file) => {
        if (file !== name) return;
        // A rename with nothing at the path after it is the bundle being removed, not a replacement.
        if (event === "rename" && !this.stopRotations && existsSync(this.path)) {
          this.rotationHint = true;
          this.renamesSeen++;
          this.openReplacement();
          if (this.renamesSeen > this.filesOpened) {
            this.filesOpened = this.renamesSeen;
            this.events.lost();
          }
        }
        this.wake();
      });
      this.watcher.on("error", () => this.startPolling());
      this.watcher.unref();
    } catch {
      this.startPolling();
    }
  }

  private startPolling(): void {
    if (this.poll || this.closed) return;
    this.watcher?.close();
    this.watcher = undefined;
    this.poll = setInterval(() => {
      this.rotationHint = true;
      this.wake();
    }, POLL_MS);
    this.poll.unref();
  }

  private turn(): void {
    this.turnScheduled = false;
    let budget = TURN_BYTES;
    while (!this.paused && !this.closed) {
      if (budget <= 0) {
        // More than a turn's worth to read: conmon may be running away from us.
        this.openReplacement();
        this.reportLead(this.lead());
        this.turnScheduled = true;
        setImmediate(() => this.turn());
        return;
      }
      const n = this.readBlock();
      budget -= n;
      this.flow += n;
      if (n > 0) continue;
      // At the end of the current file: has it been replaced?
      if (this.ahead.length === 0 && !(this.mayHaveRotated() && this.openReplacement())) {
        // Woken, yet nothing to read: conmon may be writing to a file the worker is late
        // to hand over, which conmon must not fill and replace too (see the header).
        this.reportLead(budget === TURN_BYTES ? this.unclaimedBytes() : 0);
        const next = this.pace();
        if (next === "poll") return;
        if (next === "recheck") continue;
        if (!this.draining) return;
        // The writer has stopped; a last replacement may still be on its way from the worker.
        if (this.replacementInFlight()) {
          this.turnScheduled = true;
          setTimeout(() => this.turn(), DRAIN_RETRY_MS);
          return;
        }
        this.draining = false;
        for (const w of this.drainWaiters.splice(0)) w();
        return;
      }
      if (!this.finalPass) {
        this.finalPass = true; // writes that landed before the rename
        continue;
      }
      this.enterNext();
    }
    // Paused by a client while conmon is ahead: measure now. A reader the clients keep
    // pausing may never finish a whole turn, where the lead is otherwise measured, and
    // the hub would let conmon run on, files ahead, each time it resumes.
    if (this.paused && budget < TURN_BYTES) this.reportLead(this.lead());
  }

  /**
   * How the next output is noticed, decided at the end of the file from how much
   * was read since the last decision (`flow`). Watching the directory makes conmon
   * queue an inotify event per 8 KiB write and wakes this thread for each; on this
   * kind of VM that cost conmon about a fifth of its throughput, and this thread
   * half of its CPU per byte (bench/session-io). So while output streams (STREAM_ENTER_BYTES
   * within STREAM_WINDOW_MS), the watch is closed and the file read every
   * STREAM_POLL_MS instead; a poll that finds less than STREAM_EXIT_BYTES opens the
   * watch again and reads once more ("recheck": writes made before the watch existed).
   * Only while the worker takes replacements: without it, the watch also counts renames.
   */
  private pace(): "poll" | "recheck" | "watching" {
    const flow = this.flow;
    this.flow = 0;
    if (this.streaming) {
      if (flow >= STREAM_EXIT_BYTES && this.stopRotations) return this.schedulePoll();
      this.streaming = false;
      this.windowBytes = 0;
      if (!this.closed && !this.poll) this.watchDir();
      return "recheck";
    }
    if (!this.watcher || !this.stopRotations || flow === 0) return "watching";
    const now = performance.now();
    if (now - this.windowStart > STREAM_WINDOW_MS) {
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += flow;
    if (this.windowBytes < STREAM_ENTER_BYTES) return "watching";
    this.streaming = true;
    this.watcher.close();
    this.watcher = undefined;
    return this.schedulePoll();
  }

  private schedulePoll(): "poll" {
    this.turnScheduled = true;
    this.streamPoll = setTimeout(() => this.turn(), STREAM_POLL_MS);
    return "poll";
  }

  /** Reads one block at `pos`, hands on its complete records; returns the bytes read. */
  private readBlock(): number {
    const own = sharedBlockBusy;
    const block = own ? Buffer.allocUnsafe(BLOCK) : (sharedBlock ??= Buffer.allocUnsafe(BLOCK));
    if (!own) sharedBlockBusy = true;
    try {
      let off = 0;
      if (this.carry) {
        off = this.carry.copy(block, 0);
        this.carry = undefined;
      }
      let n: number;
      try {
        n = readSync(this.gen.fd, block, off, BLOCK - off, this.pos);
      } catch {
        n = 0;
      }
      if (n <= 0) {
        if (off > 0) this.carry = Buffer.from(block.subarray(0, off));
        return 0;
      }
      this.pos += n;
      this.sinceCheck += n;
      const len = off + n;
      const used = this.handOn(block, len);
      // A block that holds no whole record is not a conmon log; skip it rather than stall.
      if (used < len && !(used === 0 && len === BLOCK)) this.carry = Buffer.from(block.subarray(used, len));
      return n;
    } finally {
      if (!own) sharedBlockBusy = false;
    }
  }

  /** Joins neighbouring records of one pipe and hands each run on (copied out of the block). */
  private handOn(block: Buffer, len: number): number {
    let pipe: StdPipe | undefined;
    let parts: Buffer[] = [];
    let bytes = 0;
    const flush = () => {
      if (!pipe || bytes === 0) return;
      const data = Buffer.concat(parts, bytes);
      const offset = this.head;
      this.head += bytes;
      parts = [];
      bytes = 0;
      this.events.output(pipe, data, offset);
    };
    const used = parseRecords(block, len, (p, start, end, full) => {
      if (pipe !== p) flush();
      pipe = p;
      parts.push(block.subarray(start, end));
      bytes += end - start;
      if (full) {
        parts.push(NEWLINE);
        bytes += 1;
      }
    });
    flush();
    return used;
  }

  /** Whether a stat is worth it at the end of the file: a rename was seen, or much was read since the last look. */
  private mayHaveRotated(): boolean {
    if (!this.rotationHint && this.sinceCheck < ROTATION_CHECK_BYTES) return false;
    this.rotationHint = false;
    this.sinceCheck = 0;
    return true;
  }

  /** Opens the file now at the path if it is newer than the newest one known; true if it did. */
  private openReplacement(): boolean {
    if (this.closed || this.stopRotations) return false;
    const newest = this.ahead.at(-1)?.gen ?? this.gen;
    try {
      if (statSync(this.path).ino === newest.ino) return false;
      const gen = this.addReplacement(this.path);
      if (gen.ino === newest.ino) {
        this.ahead.pop();
        gen.retire();
        return false;
      }
      this.filesOpened++;
      return true;
    } catch {
      return false; // between conmon's create and rename, or the container is gone
    }
  }

  /** Queues a replacement (a path this thread opens, or the worker's fd) behind the newest file. */
  private addReplacement(file: string | number): LogGeneration {
    let setBase!: (base: number) => void;
    const gen = new LogGeneration(file, new Promise<number>((r) => (setBase = r)));
    this.ahead.push({ gen, setBase });
    return gen;
  }

  /** With the worker opening replacements: the path holds a file it has not handed over yet. */
  private replacementInFlight(): boolean {
    return this.unclaimed() !== undefined;
  }

  /** The file at the path, if it is one the worker has not handed over yet. */
  private unclaimed(): { ino: number; size: number } | undefined {
    if (!this.stopRotations) return undefined;
    try {
      const at = statSync(this.path);
      return at.ino === (this.ahead.at(-1)?.gen ?? this.gen).ino ? undefined : at;
    } catch {
      return undefined;
    }
  }

  /** The bytes of that file, for the lead: for at most UNCLAIMED_HOLD_MS per file. */
  private unclaimedBytes(): number {
    const file = this.unclaimed();
    if (!file) return 0;
    if (file.ino !== this.unclaimedIno) {
      this.unclaimedIno = file.ino;
      this.unclaimedSinceMs = performance.now();
      clearTimeout(this.unclaimedTimer);
      this.unclaimedTimer = setTimeout(() => this.wake(), UNCLAIMED_HOLD_MS + 10);
      this.unclaimedTimer.unref();
    }
    return performance.now() - this.unclaimedSinceMs > UNCLAIMED_HOLD_MS ? 0 : file.size;
  }

  private enterNext(): void {
    const next = this.ahead.shift()!;
    next.setBase(this.head);
    this.gen = next.gen;
    this.pos = 0;
    this.carry = undefined;
    this.finalPass = false;
    this.events.entered(next.gen);
  }

  /** Tells the caller when conmon gets far ahead of the reader (`lead` unread bytes), and when it is close again. */
  private reportLead(lead: number): void {
    const behind = lead > (this.isBehind ? RELEASE_LEAD_BYTES : HOLD_LEAD_BYTES);
    if (behind === this.isBehind || this.closed) return;
    this.isBehind = behind;
    this.events.behind(behind);
  }

  /** Bytes written that the reader has not read yet, in the current file and the newer ones (taken or not). */
  private lead(): number {
    try {
      let n = fstatSync(this.gen.fd).size - this.pos;
      for (const a of this.ahead) n += fstatSync(a.gen.fd).size;
      return n + this.unclaimedBytes();
    } catch {
      return 0;
    }
  }
}
