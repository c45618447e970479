/**
 * `sandbox.pty`: an interactive terminal in the sandbox (a shell by
 * default). Its output is raw bytes (escape sequences included), handed to
 * `onData` as it arrives; keystrokes go in with `write`.
 */
import type { ProcessesApi } from "../processes.js";
import { ProcessOutput, type ProcessEnd } from "./process-output.js";

/** bash when the image has it, else sh; interactive either way. */
export const DEFAULT_PTY_CMD = "if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi";

/**
 * Options of {@link Pty.create}.
 *
 * @example
 * const term = await sb.pty.create({ cols: 80, rows: 24, onData: (b) => process.stdout.write(b) });
 */
export interface PtyOptions {
  cols: number;
  rows: number;
  /** What runs on the terminal (`/bin/sh -c`). @default bash -i, or sh -i without bash */
  cmd?: string;
  cwd?: string;
  /** Added to the sandbox's environment. @default TERM=xterm-256color */
  env?: Record<string, string>;
  /** Each piece of terminal output, as bytes. */
  onData?: (data: Uint8Array) => void;
  /** The server kills it after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class PtyHandle {
  /** The process id (`p-…`) on the server. */
  readonly pid: string;
  readonly #processes: ProcessesApi;
  readonly #ref: { tenantId: string | undefined; sandboxId: string; id: string };
  readonly #output: ProcessOutput;

  /** @internal Made by {@link Pty.create}. */
  constructor(processes: ProcessesApi, ref: { tenantId: string | undefined; sandboxId: string; id: string }, onData?: (data: Uint8Array) => void) {
    this.pid = ref.id;
    this.#processes = processes;
    this.#ref = ref;
    this.#output = new ProcessOutput(processes, ref, (c) => onData?.(c.data));
  }

  /** Sends keystrokes (text or bytes; `"\x04"` is Ctrl-D). */
  async write(data: string | Uint8Array): Promise<void> {
    await this.#processes.stdin({ ...this.#ref, data });
  }

  /** Changes the terminal's size; the program gets SIGWINCH. */
  async resize(size: { cols: number; rows: number }): Promise<void> {
    await this.#processes.resize({ ...this.#ref, ...size });
  }

  /** Kills the terminal's process group (SIGKILL). */
  async kill(): Promise<void> {
    await this.#processes.kill({ ...this.#ref, signal: "SIGKILL" });
  }

  /** Resolves when the program on the terminal exits. */
  async wait(): Promise<ProcessEnd> {
    return this.#output.ended;
  }

  /** All output so far, as bytes. */
  output(): Buffer {
    return Buffer.concat(this.#output.chunks.map((c) => c.data));
  }
}

export class Pty {
  readonly #processes: ProcessesApi;
  readonly #sandboxId: string;
  readonly #tenantId: string | undefined;

  constructor(processes: ProcessesApi, sandboxId: string, tenantId: string | undefined) {
    this.#processes = processes;
    this.#sandboxId = sandboxId;
    this.#tenantId = tenantId;
  }

  /**
   * Starts a program on a new terminal of `cols`×`rows`.
   *
   * @example
   * const term = await sb.pty.create({ cols: 80, rows: 24, onData: (b) => process.stdout.write(b) });
   * await term.write("stty size; exit\n");
   * await term.wait();
   */
  async create(options: PtyOptions): Promise<PtyHandle> {
    const info = await this.#processes.start({
      tenantId: this.#tenantId,
      sandboxId: this.#sandboxId,
      cmd: options.cmd ?? DEFAULT_PTY_CMD,
      tty: { cols: options.cols, rows: options.rows },
      stdin: true,
      cwd: options.cwd,
      env: { TERM: "xterm-256color", ...options.env },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    return new PtyHandle(this.#processes, { tenantId: this.#tenantId, sandboxId: this.#sandboxId, id: info.id }, options.onData);
  }
}
