/**
 * Reading conmon's k8s-file log (`<time> <stdout|stderr> <F|P> <text>`): a
 * full line ends with F, a partial one (no newline yet) with P. Used by the
 * logs route; sessions replay from the same file by byte cursor.
 */
import { open } from "node:fs/promises";

export interface LogRecord {
  time: string;
  stream: "stdout" | "stderr";
  data: string;
}

export function parseLogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? "" : line.slice(c + 1);
  return { time: line.slice(0, a), stream, data: tag === "P" ? text : text + "\n" };
}

/** Read complete lines from `offset`; returns the records and the offset after the last full line. */
export async function readLogFrom(path: string, offset: number, maxBytes = 4 * 1024 * 1024): Promise<{ records: LogRecord[]; offset: number }> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch {
    return { records: [], offset };
  }
  try {
    const { size } = await fh.stat();
    if (size < offset) offset = 0; // the monitor truncated the log at its size limit
    const len = Math.min(size - offset, maxBytes);
    if (len <= 0) return { records: [], offset };
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, offset);
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl < 0) return { records: [], offset };
    const records: LogRecord[] = [];
    for (const line of buf.subarray(0, lastNl).toString("utf8").split("\n")) {
      const r = parseLogLine(line);
      if (r) records.push(r);
    }
    return { records, offset: offset + lastNl + 1 };
  } finally {
    await fh.close();
  }
}

export async function readAllLog(path: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let offset = 0;
  for (;;) {
    const r = await readLogFrom(path, offset);
    if (r.offset === offset) return out;
    out.push(...r.records);
    offset = r.offset;
  }
}
