/**
 * Reads one process's output for a handle: the NDJSON stream from cursor 0,
 * reopened from the last cursor when the connection drops, so a reconnect
 * neither loses nor repeats bytes. Keeps every chunk, so iterators started
 * late see the output from the beginning.
 */
import { NimbusError } from "../errors.js";
import type { ProcessesApi, ProcessRef } from "../processes.js";

/** One piece of output. With a terminal, everything is `stdout`. */
export interface OutputChunk {
  stream: "stdout" | "stderr";
  data: Buffer;
}

/** How the process ended: `exitCode` is 128+N for signal N. */
export interface ProcessEnd {
  exitCode: number;
  signal?: string;
  /** Why it ended when not by itself: "timeout", "killed", "abandoned", "lost". */
  reason?: string;
}

/** Reconnects tried in a row without progress before the read gives up. */
const MAX_RECONNECTS = 5;
const RECONNECT_DELAY_MS = 200;

export class ProcessOutput {
  readonly chunks: OutputChunk[] = [];
  readonly ended: Promise<ProcessEnd>;
  #wake: (() => void)[] = [];
  #done = false;
  #failure: unknown;
  #cursor = 0;

  constructor(processes: ProcessesApi, ref: Omit<ProcessRef, "signal">, onChunk: (chunk: OutputChunk) => void) {
    this.ended = this.#pump(processes, ref, onChunk);
    // The handle's wait() reports a failure; nobody may be waiting yet.
    this.ended.catch(() => {});
  }

  /** The byte offset after the last chunk read. */
  get cursor(): number {
    return this.#cursor;
  }

  async #pump(processes: ProcessesApi, ref: Omit<ProcessRef, "signal">, onChunk: (chunk: OutputChunk) => void): Promise<ProcessEnd> {
    let failures = 0;
    try {
      for (;;) {
        try {
          for await (const frame of processes.stream({ ...ref, cursor: this.#cursor })) {
            if (frame.kind === "stdout" || frame.kind === "stderr") {
              failures = 0;
              this.#cursor = frame.cursor;
              const chunk = { stream: frame.kind, data: Buffer.from(frame.data, "base64") };
              this.chunks.push(chunk);
              onChunk(chunk);
              this.#notify();
            } else if (frame.kind === "exit") {
              return { exitCode: frame.code, signal: frame.signal, reason: frame.reason };
            } else if (frame.kind === "gap") {
              this.#cursor = frame.to;
            }
          }
          // The stream ended without an exit frame (a `closed` for a process that already ended): ask.
          const info = await processes.get(ref);
          if (info.state === "exited") return { exitCode: info.exitCode ?? -1, signal: info.signal, reason: info.reason };
          if (++failures > MAX_RECONNECTS) {
            throw new NimbusError({
              code: "client.protocol",
              message: `the output stream of process ${ref.id} keeps closing while it runs; read it again with nimbus.processes.stream`,
              retryable: true,
            });
          }
        } catch (err) {
          // An answer from the server (404, 403…) will not change on retry; a dropped connection may.
          if (err instanceof NimbusError && err.status > 0 && err.status < 500) throw err;
          if (++failures > MAX_RECONNECTS) throw err;
        }
        await new Promise((r) => setTimeout(r, RECONNECT_DELAY_MS));
      }
    } catch (err) {
      this.#failure = err;
      throw err;
    } finally {
      this.#done = true;
      this.#notify();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** Every chunk from the first, then live ones, until the process ends. */
  async *iterate(): AsyncGenerator<OutputChunk, void, undefined> {
    let next = 0;
    for (;;) {
      while (next < this.chunks.length) yield this.chunks[next++]!;
      if (this.#done) {
        if (this.#failure !== undefined) throw this.#failure;
        return;
      }
      await new Promise<void>((r) => this.#wake.push(r));
    }
  }
}
