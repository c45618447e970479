// runtime/container/k8s-log.ts — the one place that knows conmon's k8s-file log format.
// A record is `<RFC3339Nano time> <stdout|stderr> <F|P> <bytes>\n`: an F record's
// payload is its bytes plus the newline, a P record's payload (a line split because
// conmon's buffer filled, or output without a newline yet) is its bytes alone, so the
// payloads concatenated are exactly what the process wrote (binary safe). The live
// tail (log-tail.ts), cursor replay (log-replay.ts) and whole-log reads (log-file.ts)
// all parse through `parseRecords`.

import { open } from "node:fs/promises";

import type { StdPipe } from "../backend.js";

export type { StdPipe };

/**
 * Calls `onRecord` for each complete record in buf[0..len): its pipe, the payload
 * bytes buf[start, end) without the newline, whether it is a full line, and where
 * the record (its time stamp) begins. Returns the index after the last newline, so
 * a caller carries the rest into its next read. Malformed lines are skipped.
 */
export function parseRecords(
  buf: Buffer,
  len: number,
  onRecord: (pipe: StdPipe, start: number, end: number, full: boolean, lineStart: number) => void,
): number {
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0 || nl >= len) return pos;
    const s1 = buf.indexOf(0x20, pos);
    const s2 = s1 < 0 ? -1 : buf.indexOf(0x20, s1 + 1);
    if (s1 > 0 && s2 > 0 && s2 + 2 <= nl) {
      const stream = buf.toString("latin1", s1 + 1, s2);
      const tag = buf[s2 + 1];
      if ((stream === "stdout" || stream === "stderr") && (tag === 0x46 || tag === 0x50)) {
        // "F " / "P " then the bytes; an empty P record has no trailing space.
        const start = Math.min(s2 + 3, nl);
        onRecord(stream, start, nl, tag === 0x46, pos);
      }
    }
    pos = nl + 1;
  }
}

/** One record, decoded: its time stamp, pipe and payload (with the newline of a full line). */
export interface LogRecord {
  time: string;
  stream: StdPipe;
  /** true when the line was split (buffer full, or output without a trailing newline). */
  partial: boolean;
  data: Buffer;
}

const NEWLINE = Buffer.from("\n");

/** Every complete record in `buf`, and how many bytes they took. */
export function decodeRecords(buf: Buffer): { records: LogRecord[]; used: number } {
  const records: LogRecord[] = [];
  const used = parseRecords(buf, buf.length, (stream, start, end, full, lineStart) => {
    const bytes = buf.subarray(start, end);
    const time = buf.toString("latin1", lineStart, buf.indexOf(0x20, lineStart));
    records.push({ time, stream, partial: !full, data: full ? Buffer.concat([bytes, NEWLINE]) : Buffer.from(bytes) });
  });
  return { records, used };
}

/**
 * Complete records from byte `offset` of the log file at `path` (at most
 * `maxBytes` read), and the offset after the last one; no records when the
 * file does not exist. A file shorter than `offset` was replaced by the
 * monitor at its size limit, so reading starts again from its beginning.
 */
export async function readRecordsFrom(path: string, offset: number, maxBytes = 4 * 1024 * 1024): Promise<{ records: LogRecord[]; offset: number }> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch {
    return { records: [], offset };
  }
  try {
    const { size } = await fh.stat();
    if (size < offset) offset = 0;
    const len = Math.min(size - offset, maxBytes);
    if (len <= 0) return { records: [], offset };
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(buf, 0, len, offset);
    const { records, used } = decodeRecords(buf.subarray(0, bytesRead));
    return { records, offset: offset + used };
  } finally {
    await fh.close();
  }
}

/** Every record of the log file at `path`; none when it does not exist. */
export async function readAllRecords(path: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for (let offset = 0; ;) {
    const r = await readRecordsFrom(path, offset);
    if (r.offset === offset) return out;
    out.push(...r.records);
    offset = r.offset;
  }
}
