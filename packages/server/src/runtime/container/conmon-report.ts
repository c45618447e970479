// runtime/container/conmon-report.ts — conmon's report on its sync pipe
// (_OCI_SYNCPIPE), for a container (conmon.ts) and an exec'd process
// (process-facet.ts) alike: one JSON line, `{"data": <pid>}` once the runtime
// created the process, or `{"data": -1, "message": …}` with the runtime's error.

import type { Socket } from "node:net";

export type ConmonReport = { pid: number } | { error: string; cause?: unknown };

/** Calls `report` with the first line's meaning; `failed` names a failure conmon gave no message for. */
export function onConmonReport(sync: Socket, failed: (msg: unknown) => string, report: (r: ConmonReport) => void): void {
  let buffered = "";
  sync.on("data", (b: Buffer) => {
    buffered += b.toString("utf8");
    const nl = buffered.indexOf("\n");
    if (nl < 0) return;
    const line = buffered.slice(0, nl);
    let msg: { data?: unknown; message?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch (cause) {
      return report({ error: `unreadable message from conmon: ${line}`, cause });
    }
    if (typeof msg.data === "number" && msg.data > 0) return report({ pid: msg.data });
    report({ error: (typeof msg.message === "string" && msg.message.trim()) || failed(msg) });
  });
}
