/**
 * The exec channel: a new process in a ready sandbox, its output streamed as
 * it comes, its exit code at the end. A command that cannot be started (no
 * such binary) is reported as an error, not as a hang or a bare exit code.
 */
import type { RuntimeBackend } from "../runtime/backend.js";
import { AppError, invalidInput } from "./errors.js";
import { parseId } from "./user-ids.js";
import { commandEnv } from "./process-resolve.js";

export interface ExecInput {
  argv: string[];
  env?: string[];
  cwd?: string;
  /** Numeric `uid[:gid]`. @default "0:0" */
  user?: string;
  stdin?: Buffer;
  /** Kill the process after this long. @default 300000 */
  timeoutMs?: number;
}

export interface ExecSink {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
}

export interface ExecResult {
  exitCode: number;
  timedOut: boolean;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 300_000;
export const BASE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"];
// What crun/runc print when the executable cannot be found or run.
// What crun prints when the container's process already ended (the state may not say so yet):
// matched with the container's id, so a command's own "… is not running" stays its output.
const notRunning = (stderr: string, id: string) => stderr.includes(`container \`${id}\` is not running`);
const NOT_STARTED =
  /executable file `([^`]*)` not found|exec: "([^"]*)": executable file not found|(?:crun|runc).*(?:No such file or directory|permission denied)/i;

/** `uid[:gid]`, numbers only (an exec has no image lookup); the gid defaults to 0. */
export function execUser(user: string | undefined): { uid: number; gid: number } {
  if (user === undefined) return { uid: 0, gid: 0 };
  const parts = user.split(":");
  if (parts.length > 2) throw invalidInput(`user: \`${user.slice(0, 80)}\` has more than one \`:\`; give a numeric uid[:gid]`, { field: "user" });
  const [uid = "", gid = "0"] = parts;
  return { uid: parseId(uid, "user", "uid"), gid: parseId(gid, "user", "gid") };
}

export async function runExec(runtime: RuntimeBackend, sandboxId: string, input: ExecInput, sink: ExecSink, signal?: AbortSignal): Promise<ExecResult> {
  const user = execUser(input.user);
  const handle = runtime.exec(sandboxId, {
    args: input.argv,
    env: commandEnv(BASE_ENV, await runtime.processEnv(sandboxId), input.env ?? []),
    cwd: input.cwd ?? "/",
    user,
  });
  let stderrHead = "";
  handle.stdout.on("data", (c: Buffer) => sink.stdout(c));
  handle.stderr.on("data", (c: Buffer) => {
    if (stderrHead.length < 4096) stderrHead += c.toString("utf8");
    sink.stderr(c);
  });
  handle.stdin.on("error", () => undefined); // the process may exit without reading its stdin
  handle.stdin.end(input.stdin ?? Buffer.alloc(0));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    handle.kill("SIGKILL");
  }, input.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
  const onAbort = () => handle.kill("SIGKILL");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const exitCode = await handle.exited;
    if (exitCode !== 0 && !timedOut) {
      if (notRunning(stderrHead, sandboxId)) {
        throw new AppError("op.conflict", `sandbox \`${sandboxId}\` is not running (its process ended); GET the sandbox to see why, or create a new one`, {
          detail: { sandboxId },
        });
      }
      const m = NOT_STARTED.exec(stderrHead);
      if (m) {
        throw new AppError("op.invalid_input", `could not start \`${input.argv[0]}\` in the sandbox: ${stderrHead.trim().split("\n")[0]}`, {
          detail: { argv0: input.argv[0], exitCode },
        });
      }
    }
    return { exitCode: timedOut ? 137 : exitCode, timedOut };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The exec channel bound to this server's runtime, so routes run processes without knowing the backend. */
export class SandboxExec {
  constructor(private readonly runtime: RuntimeBackend) {}

  run(sandboxId: string, input: ExecInput, sink: ExecSink, signal?: AbortSignal): Promise<ExecResult> {
    return runExec(this.runtime, sandboxId, input, sink, signal);
  }
}
