/**
 * `nimbus.processes` (ext): processes started on demand in a ready sandbox
 * (`POST /api/tenants/{t}/sandboxes/{id}/processes`). Plain calls, one per
 * route; the start answers at once with the process id, and `stream` reads
 * its output (replayed from a cursor, then live) until it exits.
 */
import { followNdjson } from "./ndjson.js";
import { listItems } from "./paging.js";
import { apiPath, type Transport } from "./transport.js";

type Signal = { signal?: AbortSignal };

/** A process of a sandbox. */
export interface ProcessRef extends Signal {
  /** @default the client's tenant */
  tenantId?: string;
  /** The sandbox id. */
  sandboxId: string;
  /** The process id (`p-…`). */
  id: string;
}

/**
 * What to start: `argv`, or `cmd` (run with `/bin/sh -c`).
 *
 * @example
 * { sandboxId, cmd: "python3 -u train.py", stdin: true, detach: true, timeoutMs: 600_000 }
 */
export interface StartProcessInput extends Signal {
  tenantId?: string;
  sandboxId: string;
  argv?: string[];
  cmd?: string;
  /** `KEY=VALUE` entries, or a map. */
  env?: Record<string, string> | string[];
  cwd?: string;
  /** Numeric `uid[:gid]`. @default "0:0" */
  user?: string;
  /** Keep a stdin to write to. @default false (/dev/null) */
  stdin?: boolean;
  /** Run on a terminal of this size (stdout and stderr are then one stream). */
  tty?: { cols: number; rows: number };
  /** Kill its process group after this long. */
  timeoutMs?: number;
  /** Keep it running when no client reads it. @default false */
  detach?: boolean;
}

/** A process as the server reports it (generated from the server's schema). */
import type { ProcessInfo } from "./wire.js";
export type { ProcessInfo };

/** One frame of a process's output stream. Output `data` is base64; `cursor` is the offset after it. */
export type ProcessFrame =
  | { kind: "opened"; processId: string; cursor: number; oldestCursor: number; head: number; requestedCursor?: number }
  | { kind: "gap"; from: number; to: number; reason: string }
  | { kind: "stdout" | "stderr"; data: string; encoding: "base64"; cursor: number }
  | { kind: "exit"; code: number; signal?: string; reason?: string }
  | { kind: "closed"; reason: string };

export type ProcessSignal = "SIGHUP" | "SIGINT" | "SIGQUIT" | "SIGKILL" | "SIGUSR1" | "SIGUSR2" | "SIGTERM" | "SIGCONT" | "SIGSTOP" | "SIGWINCH";

/**
 * Processes in sandboxes.
 *
 * @example
 * const p = await nimbus.processes.start({ sandboxId, cmd: "cat", stdin: true });
 * await nimbus.processes.stdin({ sandboxId, id: p.id, data: "hi\n", eof: true });
 * for await (const f of nimbus.processes.stream({ sandboxId, id: p.id, cursor: 0 })) console.log(f.kind);
 */
export class ProcessesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  #base(tenantId: string | undefined, sandboxId: string): string {
    return apiPath`/api/tenants/${this.#t.resolveTenantId(tenantId)}/sandboxes/${sandboxId}/processes`;
  }

  #one(ref: ProcessRef, suffix = ""): string {
    return `${this.#base(ref.tenantId, ref.sandboxId)}${apiPath`/${ref.id}`}${suffix}`;
  }

  /**
   * Starts a process; answers at once with its id.
   *
   * @example
   * const p = await nimbus.processes.start({ sandboxId, argv: ["ls", "-la"], detach: true });
   */
  async start(input: StartProcessInput): Promise<ProcessInfo> {
    const { tenantId, sandboxId, signal, env, ...rest } = input;
    const json = { ...rest, ...(env === undefined ? {} : { env: Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`) }) };
    return this.#t.request({ method: "POST", path: this.#base(tenantId, sandboxId), json, signal });
  }

  /**
   * Running and recently ended processes of a sandbox.
   *
   * @example
   * for (const p of await nimbus.processes.list({ sandboxId })) console.log(p.id, p.state, p.exitCode);
   */
  async list(input: { tenantId?: string; sandboxId: string } & Signal): Promise<ProcessInfo[]> {
    return listItems<ProcessInfo>(this.#t, this.#base(input.tenantId, input.sandboxId), input.signal);
  }

  /**
   * One process.
   *
   * @example
   * const { state, exitCode } = await nimbus.processes.get({ sandboxId, id });
   */
  async get(ref: ProcessRef): Promise<ProcessInfo> {
    return this.#t.request({ method: "GET", path: this.#one(ref), signal: ref.signal });
  }

  /**
   * Signals its whole process group.
   *
   * @example
   * await nimbus.processes.kill({ sandboxId, id, signal: "SIGTERM" });
   */
  async kill(input: Omit<ProcessRef, "signal"> & { signal?: ProcessSignal; abortSignal?: AbortSignal }): Promise<ProcessInfo> {
    const path = this.#one({ tenantId: input.tenantId, sandboxId: input.sandboxId, id: input.id }, "/signal");
    return this.#t.request({ method: "POST", path, json: { signal: input.signal ?? "SIGKILL" }, signal: input.abortSignal });
  }

  /**
   * Resizes its terminal.
   *
   * @example
   * await nimbus.processes.resize({ sandboxId, id, cols: 120, rows: 40 });
   */
  async resize(input: ProcessRef & { cols: number; rows: number }): Promise<void> {
    await this.#t.request({ method: "POST", path: this.#one(input, "/resize"), json: { cols: input.cols, rows: input.rows }, signal: input.signal });
  }

  /**
   * Writes to its stdin; `eof: true` then closes it.
   *
   * @example
   * await nimbus.processes.stdin({ sandboxId, id, data: "quit\n", eof: true });
   */
  async stdin(input: ProcessRef & { data?: string | Uint8Array; eof?: boolean }): Promise<{ bytes: number; eof: boolean }> {
    const json =
      input.data === undefined
        ? { eof: input.eof }
        : typeof input.data === "string"
          ? { data: input.data, eof: input.eof }
          : { data: Buffer.from(input.data).toString("base64"), encoding: "base64", eof: input.eof };
    return this.#t.request({ method: "POST", path: this.#one(input, "/stdin"), json, signal: input.signal });
  }

  /**
   * Its output frames from `cursor` (default: only new output) until it exited
   * (`exit`, then `closed`). Aborting the stream of a process started without
   * `detach` kills it when no other client reads it.
   *
   * @example
   * for await (const f of nimbus.processes.stream({ sandboxId, id, cursor: 0 }))
   *   if (f.kind === "stdout") process.stdout.write(Buffer.from(f.data, "base64"));
   */
  async *stream(input: ProcessRef & { cursor?: number }): AsyncGenerator<ProcessFrame, void, undefined> {
    const path = this.#one(input, "/stream");
    // Lines without a kind are not frames (a newer server may add some).
    for await (const frame of followNdjson<ProcessFrame>(this.#t, { method: "GET", path, query: { cursor: input.cursor }, signal: input.signal })) {
      if ("kind" in frame) yield frame;
    }
  }
}
