/**
 * Exec (ext): run a new process inside a sandbox over
 * `POST /api/tenants/{t}/sandboxes/{id}/exec`, answered as NDJSON frames
 * (`stdout`/`stderr` base64 chunks, then `exit` or `error`).
 */
import { NimbusError, STATUS_BY_CODE, fromWire } from "./errors.js";
import { followNdjson } from "./ndjson.js";
import { apiPath, type CallOptions, type Transport } from "./transport.js";
import type { ExecFrame } from "./types/session.js";

/**
 * What to run.
 *
 * @example
 * const run: ExecOptions = { id, argv: ["sh", "-c", "cat > /tmp/x"], stdin: "hello", timeoutMs: 10_000 };
 */
export interface ExecOptions extends CallOptions {
  /** Sandbox id. */
  id: string;
  argv: string[];
  /** Extra environment, as a map or `KEY=VALUE` entries; sent as `KEY=VALUE` entries. */
  env?: Record<string, string> | string[];
  /** @default the sandbox process's working directory */
  cwd?: string;
  /** Bytes (or UTF-8 text) fed to the process's stdin, then EOF. */
  stdin?: string | Uint8Array;
  /** Kill the process after this long (enforced by the server). */
  timeoutMs?: number;
}

/**
 * The collected outcome of an exec. `exitCode` is null when the process was
 * killed by a signal.
 *
 * @example
 * const { exitCode, stdout } = await nimbus.sandboxes.exec({ id, argv: ["id", "-u"] });
 * console.log(exitCode, stdout.toString());
 */
export interface ExecResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

function envEntries(env: ExecOptions["env"]): string[] | undefined {
  if (env === undefined || Array.isArray(env)) return env;
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/**
 * Starts the exec and yields its frames as they arrive (heartbeats skipped).
 * `error` frames are yielded, not thrown.
 *
 * @example
 * for await (const f of execStream(nimbus, { id, argv: ["ls"] })) console.log(f.kind);
 */
export async function* execStream(t: Transport, input: ExecOptions): AsyncGenerator<ExecFrame, void, undefined> {
  const tenantId = t.resolveTenantId(input.tenantId);
  const stdin = input.stdin === undefined ? undefined : Buffer.from(input.stdin).toString("base64");
  const path = apiPath`/api/tenants/${tenantId}/sandboxes/${input.id}/exec`;
  const json = { argv: input.argv, env: envEntries(input.env), cwd: input.cwd, stdin, timeoutMs: input.timeoutMs };
  // Frames carry a kind; a line with a type is not one (a newer server may add some).
  for await (const frame of followNdjson<ExecFrame>(t, { method: "POST", path, json, signal: input.signal })) {
    if (!("type" in frame)) yield frame;
  }
}

/**
 * Runs the exec to completion and assembles stdout, stderr and the exit
 * code. An `error` frame is thrown as the typed error it carries.
 *
 * @example
 * const r = await exec(nimbus, { id, argv: ["echo", "hi"] }); // r.stdout.toString() === "hi\n"
 */
export async function exec(t: Transport, input: ExecOptions): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for await (const frame of execStream(t, input)) {
    if (frame.kind === "stdout") out.push(Buffer.from(frame.data, "base64"));
    else if (frame.kind === "stderr") err.push(Buffer.from(frame.data, "base64"));
    else if (frame.kind === "exit") {
      return { exitCode: frame.code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
    } else if (frame.kind === "error") {
      throw fromWire(STATUS_BY_CODE[frame.error.code] ?? 500, { error: frame.error });
    }
  }
  throw new NimbusError({
    code: "client.protocol",
    message: `the exec stream of sandbox \`${input.id}\` ended before the process exited; run it again`,
    retryable: true,
  });
}
