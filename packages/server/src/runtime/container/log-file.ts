// runtime/container/log-file.ts — reading conmon's k8s-file log of a main process.
// Owns the line format `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`, where P
// marks a partial line continued by the next record. Used by the logs route and
// by tests that read what a container printed.

import { readFile } from "node:fs/promises";

export interface LogRecord {
  time: string;
  stream: "stdout" | "stderr";
  /** true when the line was split (buffer full, or output without a trailing newline). */
  partial: boolean;
  text: string;
}

export function parseK8sLog(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split("\n")) {
    // [\s\S], not ".": a terminal's output carries "\r", which "." does not match.
    const m = /^(\S+) (stdout|stderr) ([PF]) ?([\s\S]*)$/.exec(line);
    if (!m) continue;
    out.push({ time: m[1]!, stream: m[2] as "stdout" | "stderr", partial: m[3] === "P", text: m[4]! });
  }
  return out;
}

/** Re-joins records into the text the process wrote (optionally one stream only). */
export function joinLog(records: LogRecord[], stream?: "stdout" | "stderr"): string {
  let s = "";
  for (const r of records) {
    if (stream && r.stream !== stream) continue;
    s += r.partial ? r.text : r.text + "\n";
  }
  return s;
}

/** The whole output of a container so far; "" when there is no log yet. */
export async function readLogText(path: string, stream?: "stdout" | "stderr"): Promise<string> {
  try {
    return joinLog(parseK8sLog(await readFile(path, "utf8")), stream);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}
