// runtime/container/log-file.ts — a main process's whole output as text, from
// conmon's k8s-file log (the format is k8s-log.ts's). Used by the conformance
// suite and tests that read what a container printed.

import { decodeRecords, readAllRecords, type LogRecord } from "./k8s-log.js";

export type { LogRecord } from "./k8s-log.js";

export function parseK8sLog(text: string): LogRecord[] {
  return decodeRecords(Buffer.from(text.endsWith("\n") ? text : text + "\n")).records;
}

/** Re-joins records into the text the process wrote (optionally one stream only). */
export function joinLog(records: LogRecord[], stream?: "stdout" | "stderr"): string {
  return Buffer.concat(records.filter((r) => !stream || r.stream === stream).map((r) => r.data)).toString("utf8");
}

/** The whole output of a container so far; "" when there is no log yet. */
export async function readLogText(path: string, stream?: "stdout" | "stderr"): Promise<string> {
  return joinLog(await readAllRecords(path), stream);
}
