// runtime/container/log-replay.ts — byte-exact reading of conmon's k8s-file log by
// logical offset, for replaying a main process's output from a cursor.
// Payloads concatenated are exactly what the process wrote (the format: k8s-log.ts).
// conmon caps the file with --log-size-max by writing a new file and renaming it
// over the old one; a generation is one such file, held open by fd so it stays
// readable after the rename. `base` is the logical offset of its first payload byte.

import { closeSync, fstatSync, openSync, read } from "node:fs";
import { parseRecords, type StdPipe } from "./k8s-log.js";

const BLOCK = 1024 * 1024;

function readAt(fd: number, buf: Buffer, pos: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

export interface PayloadChunk {
  pipe: StdPipe;
  /** Logical offset of data[0]. */
  offset: number;
  data: Buffer;
}

export class LogGeneration {
  readonly fd: number;
  readonly ino: number;
  private users = 0;
  private retired = false;

  /** `file`: the log's path, or a descriptor already open on it (LogRotations). */
  constructor(
    file: string | number,
    readonly base: Promise<number>,
  ) {
    this.fd = typeof file === "number" ? file : openSync(file, "r");
    this.ino = fstatSync(this.fd).ino;
    // Readers await `base` and see a failure there; it must never surface as an
    // unhandled rejection (which would end the server process).
    base.catch(() => undefined);
  }

  /**
   * Yields payload chunks covering logical [from, to) that this generation holds,
   * in order, neighbouring records of one stream joined up to 64 KiB; stops early
   * when the file ends first.
   */
  async *range(from: number, to: number): AsyncGenerator<PayloadChunk> {
    const base = await this.base;
    let logical = base;
    let acc: PayloadChunk | undefined;
    this.users++;
    try {
      for await (const [pipe, data] of this.records()) {
        const start = logical;
        logical += data.length;
        if (logical <= from) continue;
        const a = Math.max(from, start) - start;
        const b = Math.min(to, logical) - start;
        if (b > a) {
          const piece = data.subarray(a, b);
          if (acc && acc.pipe === pipe && acc.data.length < 64 * 1024) acc.data = Buffer.concat([acc.data, piece]);
          else {
            if (acc) yield acc;
            acc = { pipe, offset: start + a, data: Buffer.from(piece) };
          }
        }
        if (logical >= to) break;
      }
      if (acc) yield acc;
    } finally {
      this.users--;
      if (this.retired && this.users === 0) this.close();
    }
  }

  /** Closed when it is dropped from the window and no replay still reads it. */
  retire(): void {
    this.retired = true;
    if (this.users === 0) this.close();
  }

  private closed = false;
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Every complete record from the start of the file: [pipe, payload]. */
  private async *records(): AsyncGenerator<[StdPipe, Buffer]> {
    let pos = 0;
    let carry = Buffer.alloc(0);
    for (;;) {
      if (this.closed) return;
      const block = Buffer.allocUnsafe(BLOCK);
      const n = await readAt(this.fd, block, pos);
      if (n <= 0) return;
      pos += n;
      const buf = carry.length ? Buffer.concat([carry, block.subarray(0, n)]) : block.subarray(0, n);
      const batch: Array<[StdPipe, Buffer]> = [];
      const used = parseRecords(buf, buf.length, (pipe, start, end, full) => {
        const bytes = buf.subarray(start, end);
        batch.push([pipe, full ? Buffer.concat([bytes, NEWLINE]) : bytes]);
      });
      yield* batch;
      carry = Buffer.from(buf.subarray(used));
    }
  }
}

const NEWLINE = Buffer.from("\n");
