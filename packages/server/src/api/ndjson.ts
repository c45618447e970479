/**
 * Long-lived NDJSON responses (event and log streams): headers flushed at
 * once so clients see the stream open, a heartbeat line so idle proxies
 * keep it, and a clean end when either side goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface NdjsonStream {
  write(value: unknown): boolean;
  end(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export const HEARTBEAT_MS = 15_000;

/** Exactly this, no parameters: upstream's clients compare the header as a whole (NDJSON is UTF-8 by definition). */
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

export function openNdjson(req: IncomingMessage, res: ServerResponse, requestId: string): NdjsonStream {
  res.writeHead(200, { "content-type": NDJSON_CONTENT_TYPE, "cache-control": "no-store", "x-request-id": requestId, "x-accel-buffering": "no" });
  res.flushHeaders();
  let closed = false;
  const closers: Array<() => void> = [];
  const heartbeat = setInterval(() => stream.write({ type: "heartbeat" }), HEARTBEAT_MS);
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers) fn();
  };
  req.on("close", finish);
  res.on("close", finish);
  const stream: NdjsonStream = {
    write(value) {
      if (closed) return false;
      return res.write(JSON.stringify(value) + "\n");
    },
    end() {
      if (!closed) res.end();
      finish();
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
  return stream;
}
