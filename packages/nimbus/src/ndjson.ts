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
  let pending = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = done ? "" : (lines.pop() ?? "");
      for (const line of lines) {
        const trimmed = line.trim();
        if (trimmed !== "") yield parseLine<T>(trimmed);
      }
      if (done) return;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
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
