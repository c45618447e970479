/**
 * `sandbox.commands.start(...)`: a process that keeps running while the
 * caller talks to it — stdin, signals, and its output as text, live or
 * replayed from the start.
 */
import type { ProcessesApi, ProcessSignal } from "../processes.js";
import type { CommandResult } from "./commands.js";
import { ProcessOutput, type OutputChunk } from "./process-output.js";

/**
 * Options of {@link Commands.start}.
 *
 * @example
 * await sb.commands.start("python3 -u serve.py", { stdin: true, onStdout: (s) => process.stdout.write(s) });
 */
export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Keep a stdin open for {@link CommandHandle.sendStdin}. @default false (/dev/null) */
  stdin?: boolean;
  /** The server kills its whole process group after this long. */
  timeoutMs?: number;
  /** Keep it running when this client stops reading (or goes away). @default false */
  detach?: boolean;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  signal?: AbortSignal;
}

/** One piece of a command's output, decoded as UTF-8. */
export interface TextChunk {
  stream: "stdout" | "stderr";
  text: string;
}

/** Decodes chunks as UTF-8 per stream, keeping a character split across chunks whole. */
function decodeText(chunks: AsyncIterable<OutputChunk>, only?: "stdout" | "stderr"): AsyncGenerator<TextChunk, void, undefined> {
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  return (async function* () {
    for await (const c of chunks) {
      if (only && c.stream !== only) continue;
      const text = decoders[c.stream].decode(c.data, { stream: true });
      if (text) yield { stream: c.stream, text };
    }
    for (const stream of ["stdout", "stderr"] as const) {
      const text = decoders[stream].decode();
      if (text && (!only || only === stream)) yield { stream, text };
    }
  })();
}

export class CommandHandle {
  /** The process id (`p-…`) on the server. */
  readonly pid: string;
  readonly #processes: ProcessesApi;
  readonly #ref: { tenantId: string | undefined; sandboxId: string; id: string };
  readonly #output: ProcessOutput;
  readonly #result: Promise<CommandResult>;

  /** @internal Made by {@link Commands.start}. */
  constructor(processes: ProcessesApi, ref: { tenantId: string | undefined; sandboxId: string; id: string }, options: StartOptions) {
    this.pid = ref.id;
    this.#processes = processes;
    this.#ref = ref;
    const live = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    this.#output = new ProcessOutput(processes, ref, (c) => {
      const cb = c.stream === "stdout" ? options.onStdout : options.onStderr;
      const text = cb ? live[c.stream].decode(c.data, { stream: true }) : "";
      if (text) cb?.(text);
    });
    this.#result = this.#collect();
    this.#result.catch(() => {});
  }

  async #collect(): Promise<CommandResult> {
    const text = { stdout: "", stderr: "" };
    for await (const c of decodeText(this.#output.iterate())) text[c.stream] += c.text;
    const end = await this.#output.ended;
    return { ...text, exitCode: end.exitCode };
  }

  /** Resolves when it exits: all its output as text and its exit code (128+N after signal N). */
  wait(): Promise<CommandResult> {
    return this.#result;
  }

  /** Signals its whole process group. @default SIGKILL */
  async kill(signal: ProcessSignal = "SIGKILL"): Promise<void> {
    await this.#processes.kill({ ...this.#ref, signal });
  }

  /** Writes to its stdin (started with `stdin: true`). */
  async sendStdin(data: string | Uint8Array): Promise<void> {
    await this.#processes.stdin({ ...this.#ref, data });
  }

  /** Closes its stdin: the process reads EOF. */
  async closeStdin(): Promise<void> {
    await this.#processes.stdin({ ...this.#ref, eof: true });
  }

  /** Its stdout as text, from the start, until it exits. */
  async *stdout(): AsyncGenerator<string, void, undefined> {
    for await (const c of decodeText(this.#output.iterate(), "stdout")) yield c.text;
  }

  /** Its stderr as text, from the start, until it exits. */
  async *stderr(): AsyncGenerator<string, void, undefined> {
    for await (const c of decodeText(this.#output.iterate(), "stderr")) yield c.text;
  }

  /** Both streams in the order they arrived, as typed chunks. */
  output(): AsyncGenerator<TextChunk, void, undefined> {
    return decodeText(this.#output.iterate());
  }
}
