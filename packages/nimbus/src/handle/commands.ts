/**
 * `sandbox.commands`: run a command and get its output as text, the way
 * agent code wants it, over the exec route (NDJSON frames underneath).
 */
import { STATUS_BY_CODE, fromWire, NimbusError } from "../errors.js";
import type { ProcessesApi } from "../processes.js";
import type { SandboxesApi } from "../sandboxes.js";
import { CommandHandle, type StartOptions } from "./command-handle.js";

/**
 * Options of one command.
 *
 * @example
 * await sb.commands.run("pip install requests", { timeoutMs: 120_000, onStdout: (s) => process.stdout.write(s) });
 */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes or text fed to stdin, then EOF. */
  stdin?: string | Uint8Array;
  /** Killed after this long (by the server). */
  timeoutMs?: number;
  /** Each piece of stdout as it arrives, decoded as UTF-8 (a character split across pieces is kept whole). */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  signal?: AbortSignal;
}

/**
 * What a finished command left. `exitCode` is null when a signal ended it.
 *
 * @example
 * const { stdout, exitCode } = await sb.commands.run("ls -la /");
 */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export class Commands {
  readonly #sandboxes: SandboxesApi;
  readonly #processes: ProcessesApi;
  readonly #id: string;
  readonly #tenantId: string | undefined;

  constructor(apis: { sandboxes: SandboxesApi; processes: ProcessesApi }, id: string, tenantId: string | undefined) {
    this.#sandboxes = apis.sandboxes;
    this.#processes = apis.processes;
    this.#id = id;
    this.#tenantId = tenantId;
  }

  /**
   * Runs `cmd` (a string runs with `/bin/sh -c`; an array is the argv) to
   * its end. A non-zero exit is a result, not an error.
   *
   * @example
   * const r = await sb.commands.run(["python3", "-c", "print(1 + 1)"]); // r.stdout === "2\n"
   */
  async run(cmd: string | string[], options: RunOptions = {}): Promise<CommandResult> {
    const argv = typeof cmd === "string" ? ["/bin/sh", "-c", cmd] : cmd;
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const text = { stdout: "", stderr: "" };
    const frames = this.#sandboxes.execStream({
      id: this.#id,
      tenantId: this.#tenantId,
      argv,
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    for await (const frame of frames) {
      if (frame.kind === "stdout" || frame.kind === "stderr") {
        const piece = decoders[frame.kind].decode(Buffer.from(frame.data, "base64"), { stream: true });
        text[frame.kind] += piece;
        if (piece) (frame.kind === "stdout" ? options.onStdout : options.onStderr)?.(piece);
      } else if (frame.kind === "exit") {
        for (const k of ["stdout", "stderr"] as const) {
          const rest = decoders[k].decode();
          text[k] += rest;
          if (rest) (k === "stdout" ? options.onStdout : options.onStderr)?.(rest);
        }
        return { ...text, exitCode: frame.code };
      } else if (frame.kind === "error") {
        throw fromWire(STATUS_BY_CODE[frame.error.code] ?? 500, { error: frame.error });
      }
    }
    throw new NimbusError({
      code: "client.protocol",
      message: `the command in sandbox \`${this.#id}\` ended without an exit status; run it again`,
      retryable: true,
    });
  }

  /**
   * Starts `cmd` and answers at once with a handle to the running process:
   * write to its stdin, signal it, read its output as it comes. Unless
   * `detach`, the server kills it when this client stops reading.
   *
   * @example
   * const p = await sb.commands.start("python3 -u echo.py", { stdin: true });
   * await p.sendStdin("hello\n");
   * await p.closeStdin();
   * const { stdout, exitCode } = await p.wait();
   */
  async start(cmd: string | string[], options: StartOptions = {}): Promise<CommandHandle> {
    const info = await this.#processes.start({
      tenantId: this.#tenantId,
      sandboxId: this.#id,
      ...(typeof cmd === "string" ? { cmd } : { argv: cmd }),
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin,
      timeoutMs: options.timeoutMs,
      detach: options.detach,
      signal: options.signal,
    });
    return new CommandHandle(this.#processes, { tenantId: this.#tenantId, sandboxId: this.#id, id: info.id }, options);
  }
}
