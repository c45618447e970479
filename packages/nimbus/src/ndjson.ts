/**
 * Reads newline-delimited JSON from a fetch response body, one parsed value
 * per non-empty line. Leaving the loop early cancels the body.
 */
import { NimbusError } from "./errors.js";

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
