/**
 * How an output stream's events become frames, for the main process's stdio
 * channel and for on-demand processes alike: one JSON object per event, named
 * by `kind` (NDJSON) or `type` (WebSocket); on a WebSocket, output as binary
 * frames unless the client asked for JSON framing.
 */
import type { WebSocket } from "ws";

export type Encoding = "utf8" | "base64";

/** What an output event carries; other events are copied into the frame as they are. */
interface OutputEvent {
  kind: "stdout" | "stderr";
  data: Buffer;
  cursor: number;
}

/** How long a transport may take to flush its last frames before it is dropped. */
export const END_GRACE_MS = 10_000;
/** WebSocket keepalive, like the NDJSON heartbeat. */
export const PING_MS = 15_000;

function isOutput(ev: { kind: string }): ev is OutputEvent {
  return (ev.kind === "stdout" || ev.kind === "stderr") && Buffer.isBuffer((ev as { data?: unknown }).data);
}

/**
 * The event as one line of JSON text. Base64 output is spliced in as is: it needs
 * no escaping, and JSON.stringify scanning a few hundred KiB of it per frame was
 * most of the NDJSON stream's cost.
 */
export function frameText(ev: { kind: string }, tag: "kind" | "type", encoding: Encoding): string {
  if (isOutput(ev)) {
    if (encoding === "base64") return `{"${tag}":"${ev.kind}","data":"${ev.data.toString("base64")}","encoding":"base64","cursor":${ev.cursor}}`;
    return JSON.stringify({ [tag]: ev.kind, data: ev.data.toString("utf8"), cursor: ev.cursor });
  }
  const { kind, ...rest } = ev;
  return JSON.stringify({ [tag]: kind, ...rest });
}

/** A WebSocket as an event sink: `flushed` once the frame left (or at once when the socket is gone); `end` closes, then drops it after a grace. */
export function wsEventSink(ws: WebSocket, o: { json: boolean; encoding: Encoding }): { send(ev: { kind: string }, flushed: () => void): void; end(): void } {
  return {
    send(ev, flushed) {
      if (ws.readyState !== ws.OPEN) return flushed();
      if (isOutput(ev) && !o.json) ws.send(ev.data, { binary: true }, () => flushed());
      else ws.send(frameText(ev, "type", o.encoding), () => flushed());
    },
    end() {
      if (ws.readyState === ws.OPEN) ws.close(1000);
      setTimeout(() => ws.terminate(), END_GRACE_MS).unref();
    },
  };
}

/** Pings until the socket closes; returns the function that reports an error to the client as a text frame. */
export function wsControl(ws: WebSocket): (err: unknown) => void {
  const ping = setInterval(() => ws.ping(), PING_MS);
  ping.unref();
  ws.on("close", () => clearInterval(ping));
  return (err) => {
    const e = err as { code?: string; message?: string };
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "error", code: e.code ?? "service.internal", message: e.message ?? String(err) }));
  };
}
