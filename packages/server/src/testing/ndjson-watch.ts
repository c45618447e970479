/**
 * Reads an NDJSON response (a files watch) into an array as lines arrive,
 * for tests that act and then wait for the matching line.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface NdjsonReader {
  status: number;
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first line matching `pred` (already seen or arriving within `timeoutMs`), else rejects. */
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function readNdjson(url: string, token: string): Promise<NdjsonReader> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const lines: Array<Record<string, unknown>> = [];
  const ended = (async () => {
    if (!res.body) return;
    let rest = "";
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        rest += Buffer.from(chunk).toString();
        const parts = rest.split("\n");
        rest = parts.pop() ?? "";
        for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    status: res.status,
    lines,
    ended,
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(lines.filter((l) => l.type !== "heartbeat"))}`);
        await sleep(50);
      }
    },
    close: () => abort.abort(),
  };
}
