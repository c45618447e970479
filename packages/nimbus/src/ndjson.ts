/**
 * Reads newline-delimited JSON from a fetch response body, one parsed value
 * per non-empty line. Leaving the loop early cancels the body.
 */
import { NimbusError } from "./errors.js";
import type { RequestSpec, Transport } from "./transport.js";
import type { Heartbeat } from "./types/session.js";

/**
 * Yields each JSON line of `res.body`.
 *
 * @example
 * for await (const frame of readNdjson<{ kind: string }>(res)) console.log(frame.kind);
 */
export async function* readNdjson<T>(res: Response): AsyncGenerator<T, void, undefined> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  // Bytes of the line still incomplete. Lines are found in bytes and decoded once
  // whole: a long output frame spans many reads, and re-scanning its text on each
  // read was the SDK's largest cost on a fast stream.
  let partial: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        const text = decoder.decode(joinBytes(partial)).trim();
        if (text !== "") yield parseLine<T>(text);
        return;
      }
      let start = 0;
      for (let nl = value.indexOf(10); nl !== -1; nl = value.indexOf(10, start)) {
        const text = decoder.decode(joinBytes(partial, value.subarray(start, nl))).trim();
        partial = [];
        start = nl + 1;
        if (text !== "") yield parseLine<T>(text);
      }
      if (start < value.length) partial.push(value.subarray(start));
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Every NDJSON stream sends these now and then to keep idle proxies open; they carry nothing. */
function isHeartbeat(line: unknown): line is Heartbeat {
  return typeof line === "object" && line !== null && (line as { type?: unknown }).type === "heartbeat";
}

/**
 * Sends a request that answers NDJSON and yields its lines, heartbeats left
 * out. The request goes out on the first `next()`, like any async generator's body.
 *
 * @example
 * for await (const e of followNdjson<NimbusEvent>(t, { method: "GET", path: apiPath`/api/tenants/${id}/events` })) console.log(e.type);
 */
export async function* followNdjson<T>(t: Transport, spec: Omit<RequestSpec, "accept">): AsyncGenerator<T, void, undefined> {
  const res = await t.send({ ...spec, accept: "application/x-ndjson" });
  for await (const line of readNdjson<T | Heartbeat>(res)) {
    if (!isHeartbeat(line)) yield line;
  }
}

function joinBytes(parts: Uint8Array[], last?: Uint8Array): Uint8Array {
  const all = last ? [...parts, last] : parts;
  if (all.length === 1) return all[0]!;
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function parseLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch (cause) {
    throw new NimbusError({
      code: "client.protocol",
      message: `Nimbus sent a stream line that is not JSON: ${line.slice(0, 200)}`,
      cause,
    });
  }
}
