/**
 * The stdout of an attached stdio stream (the SDK's `sessions.attach`),
 * gathered as text, for tests that write to stdin and wait for the echo.
 */
export interface StdoutCollector {
  readonly text: string;
  /** Waits until exactly `expected` has arrived; fails naming what did once `timeoutMs` have passed. */
  until(expected: string, timeoutMs: number, pollMs?: number): Promise<void>;
}

export function collectStdout(attached: { stdout: { on(event: "data", listener: (chunk: Buffer) => void): unknown } }): StdoutCollector {
  let text = "";
  attached.stdout.on("data", (b: Buffer) => (text += b.toString()));
  return {
    get text() {
      return text;
    },
    async until(expected, timeoutMs, pollMs = 20) {
      const deadline = Date.now() + timeoutMs;
      while (text !== expected) {
        if (Date.now() >= deadline) throw new Error(`got ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
}
