/**
 * Processes started on demand in a ready sandbox (issue 18): start answers the
 * process id at once; the process then runs under the runtime's supervision
 * (outside the server, so it outlives a restart) with its output kept for
 * replay. The rules here:
 *
 * - Each running process holds one of its tenant's `maxExecs` slots (processes
 *   count like execs), from start until it ends, also across a restart.
 * - `timeoutMs` kills its whole process group (SIGKILL), also when the server
 *   restarted meanwhile (the deadline is `createdAt + timeoutMs`).
 * - A process not started with `detach` belongs to the clients reading it: when
 *   the last one goes away before it ended, it is killed (a client that
 *   aborts its wait does not leave it running). One nobody attached to within
 *   `attachGraceMs` is killed too.
 * - Records of ended processes are kept for `retentionMs` (and at most
 *   `keepEnded` per sandbox), then pruned with their logs.
 */
import { randomBytes } from "node:crypto";
import type { ProcessInfo } from "@nimbus/nimbus";
import type { Logger } from "../log.js";
import type { ProcessStdio, ProcessesFacet } from "../runtime/backend.js";
import type { ProcessRow, ProcessStore } from "../store/process-store.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import { AppError } from "./errors.js";
import { RuntimeError } from "../runtime/errors.js";
import { translateRuntimeError } from "./translate-errors.js";
import { commandEnv } from "./process-resolve.js";
import { BASE_ENV, execUser } from "./sandbox-exec.js";
import type { TenantCaps } from "./tenant-caps.js";

export interface StartProcessInput {
  argv?: string[];
  cmd?: string;
  cwd?: string;
  env?: string[];
  user?: string;
  stdin?: boolean;
  tty?: { cols: number; rows: number };
  timeoutMs?: number;
  detach?: boolean;
}

/** A process as the API answers it: the wire type. */
export type ProcessView = ProcessInfo;

export interface ProcessesDeps {
  store: ProcessStore;
  runtime: ProcessesFacet;
  /** The sandbox main process's environment, which processes inherit (RuntimeBackend.processEnv). */
  sandboxEnv?: (sandboxId: string) => Promise<string[] | undefined>;
  /** The sandbox of the route tenant; throws not found. */
  sandbox(tenantId: string, id: string): SandboxRow;
  /** The sandbox, or undefined once it is gone (for pruning). */
  findSandbox(tenantId: string, id: string): SandboxRow | undefined;
  caps?: TenantCaps;
  log: Logger;
  /** How long ended processes stay listed. @default 600000 */
  retentionMs?: number;
  /** Ended processes kept per sandbox at most. @default 100 */
  keepEnded?: number;
  /** How long a process without `detach` may wait for its first reader. @default 30000 */
  attachGraceMs?: number;
}

export const DEFAULT_PROCESS_RETENTION_MS = 600_000;
const DEFAULT_KEEP_ENDED = 100;
const DEFAULT_ATTACH_GRACE_MS = 30_000;
/** How often ended records are pruned. */
const PRUNE_EVERY_MS = 60_000;

interface Live {
  row: ProcessRow;
  release?: () => void;
  timer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  readers: number;
  watch: AbortController;
  ended: Promise<void>;
}

export class Processes {
  private readonly live = new Map<string, Live>();
  private pruneTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly deps: ProcessesDeps) {}

  /** After a restart: watch the processes still recorded as running again, with their slots and deadlines. */
  start(): void {
    for (const row of this.deps.store.running()) {
      let release: (() => void) | undefined;
      try {
        release = this.deps.caps?.acquire(row.tenantId, "maxExecs");
      } catch {
        // Over the cap after a restart (the limit was lowered): it still runs and is watched; it just holds no slot.
      }
      this.watch(row, release, false);
    }
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  async create(tenantId: string, sandboxId: string, input: StartProcessInput): Promise<ProcessView> {
    const sandbox = this.readySandbox(tenantId, sandboxId);
    const argv = argvOf(input);
    const user = input.user ?? "0:0";
    const ids = execUser(user);
    const spec: ProcessRow["spec"] = {
      argv,
      cwd: input.cwd ?? "/",
      env: input.env ?? [],
      user,
      stdin: input.stdin ?? false,
      ...(input.tty ? { tty: input.tty } : {}),
    };
    const release = this.deps.caps?.acquire(tenantId, "maxExecs");
    const row: ProcessRow = {
      tenantId,
      sandboxId: sandbox.id,
      id: `p-${randomBytes(6).toString("hex")}`,
      spec,
      detach: input.detach ?? false,
      timeoutMs: input.timeoutMs ?? null,
      state: "running",
      pid: null,
      exitCode: null,
      signal: null,
      reason: null,
      createdAt: new Date().toISOString(),
      endedAt: null,
    };
    try {
      this.deps.store.insert(row);
      const { pid } = await this.deps.runtime.start(sandbox.id, row.id, {
        args: argv,
        env: commandEnv(BASE_ENV, await this.deps.sandboxEnv?.(sandbox.id), spec.env),
        cwd: spec.cwd,
        user: ids,
        stdin: spec.stdin,
        ...(spec.tty ? { terminal: { rows: spec.tty.rows, cols: spec.tty.cols } } : {}),
      });
      row.pid = pid;
      this.deps.store.setPid(tenantId, sandbox.id, row.id, pid);
    } catch (err) {
      release?.();
      this.deps.store.remove(tenantId, sandbox.id, row.id);
      await this.deps.runtime.remove(sandbox.id, row.id).catch(() => undefined);
      // The runtime's refusal to start the command (no such binary, bad cwd) is the caller's to fix; a host problem is not.
      if (err instanceof RuntimeError && err.kind !== "start_failed") throw translateRuntimeError(err);
      throw new AppError(
        "op.invalid_input",
        `could not start \`${argv[0]}\` in sandbox \`${sandbox.id}\`: ${(err as Error).message}; check the command and that the sandbox runs`,
        {
          detail: { argv0: argv[0], sandboxId: sandbox.id },
          cause: err,
        },
      );
    }
    this.watch(row, release, !row.detach);
    return view(row);
  }

  list(tenantId: string, sandboxId: string): ProcessView[] {
    this.deps.sandbox(tenantId, sandboxId);
    return this.deps.store.list(tenantId, sandboxId).map(view);
  }

  get(tenantId: string, sandboxId: string, id: string): ProcessView {
    return view(this.row(tenantId, sandboxId, id));
  }

  async signal(tenantId: string, sandboxId: string, id: string, signal: NodeJS.Signals): Promise<ProcessView> {
    const row = this.running(tenantId, sandboxId, id);
    if (signal === "SIGKILL") this.deps.store.setReason(tenantId, sandboxId, id, "killed");
    await this.deps.runtime.signal(row.sandboxId, row.id, signal);
    return view(this.row(tenantId, sandboxId, id));
  }

  async resize(tenantId: string, sandboxId: string, id: string, size: { cols: number; rows: number }): Promise<void> {
    const row = this.running(tenantId, sandboxId, id);
    if (!row.spec.tty) throw new AppError("op.conflict", `process \`${id}\` has no terminal; start it with \`tty\` to resize it`, { detail: { id } });
    (await this.stdio(row)).resize(size.rows, size.cols);
  }

  /** Bytes for its stdin, or (eof) closes stdin for good. */
  async input(tenantId: string, sandboxId: string, id: string, data: Buffer, eof: boolean): Promise<void> {
    const row = this.running(tenantId, sandboxId, id);
    if (!row.spec.stdin)
      throw new AppError("op.conflict", `process \`${id}\` was started without stdin; start it with \`"stdin": true\` to write to it`, { detail: { id } });
    if (data.length > 0) {
      try {
        await (await this.stdio(row)).write(data);
      } catch (err) {
        throw new AppError("op.conflict", `the stdin of process \`${id}\` is closed (EOF was sent, or it is ending); start a new process to send more`, {
          detail: { id },
          cause: err,
        });
      }
    }
    if (eof) await this.deps.runtime.closeStdin(row.sandboxId, row.id);
  }

  /**
   * A reader of the process's output: its stdio, and a release to call when
   * the reader goes. Readers of a process without `detach` keep it alive:
   * the last one leaving before it ended kills it.
   */
  async reader(tenantId: string, sandboxId: string, id: string): Promise<{ row: ProcessRow; stdio: ProcessStdio; ended: Promise<ProcessView>; leave(): void }> {
    const row = this.row(tenantId, sandboxId, id);
    const stdio = await this.stdio(row);
    const live = this.live.get(key(row));
    if (live) {
      live.readers++;
      clearTimeout(live.graceTimer);
    }
    let left = false;
    const ended = (live?.ended ?? Promise.resolve()).then(() => view(this.row(tenantId, sandboxId, id)));
    return {
      row,
      stdio,
      ended,
      leave: () => {
        if (left || !live) return;
        left = true;
        live.readers--;
        if (live.readers === 0 && !live.row.detach && this.live.has(key(live.row))) {
          this.deps.log.info("processes: the last reader of a process without detach left; killing it", {
            processId: live.row.id,
            sandboxId: live.row.sandboxId,
          });
          this.kill(live.row, "abandoned");
        }
      },
    };
  }

  /** Server shutdown: stop watching (processes keep running). */
  close(): void {
    this.closed = true;
    clearInterval(this.pruneTimer);
    for (const l of this.live.values()) {
      clearTimeout(l.timer);
      clearTimeout(l.graceTimer);
      l.watch.abort();
      l.release?.();
    }
    this.live.clear();
  }

  /** Drops ended records past retention (and their logs), and records of sandboxes that are gone. */
  prune(): void {
    const before = new Date(Date.now() - (this.deps.retentionMs ?? DEFAULT_PROCESS_RETENTION_MS)).toISOString();
    for (const row of this.deps.store.prunable(before, this.deps.keepEnded ?? DEFAULT_KEEP_ENDED)) {
      this.deps.store.remove(row.tenantId, row.sandboxId, row.id);
      void this.deps.runtime.remove(row.sandboxId, row.id).catch(() => undefined);
    }
  }

  private watch(row: ProcessRow, release: (() => void) | undefined, needsReader: boolean): void {
    const watch = new AbortController();
    let endedResolve!: () => void;
    const live: Live = { row, release, readers: 0, watch, ended: new Promise<void>((r) => (endedResolve = r)) };
    this.live.set(key(row), live);
    if (row.timeoutMs !== null) {
      const dueMs = Date.parse(row.createdAt) + row.timeoutMs - Date.now();
      live.timer = setTimeout(() => this.kill(row, "timeout"), Math.max(0, dueMs));
    }
    if (needsReader) live.graceTimer = setTimeout(() => this.kill(row, "abandoned"), this.deps.attachGraceMs ?? DEFAULT_ATTACH_GRACE_MS);
    this.deps.runtime.wait(row.sandboxId, row.id, watch.signal).then(
      (exit) => {
        this.deps.store.ended(row.tenantId, row.sandboxId, row.id, {
          exitCode: exit.exitCode,
          signal: exit.signal,
          endedAt: exit.finishedAt,
          reason: exit.exitCode < 0 ? "lost" : undefined,
        });
        this.unwatch(live);
        endedResolve();
      },
      (err: Error) => {
        if (watch.signal.aborted) return;
        // The sandbox (and with it the process) is gone.
        this.deps.store.ended(row.tenantId, row.sandboxId, row.id, { exitCode: -1, reason: "lost", endedAt: new Date().toISOString() });
        this.deps.log.debug("processes: lost track of a process", { processId: row.id, err: err.message });
        this.unwatch(live);
        endedResolve();
      },
    );
  }

  private unwatch(live: Live): void {
    clearTimeout(live.timer);
    clearTimeout(live.graceTimer);
    live.release?.();
    if (this.live.get(key(live.row)) === live) this.live.delete(key(live.row));
  }

  private kill(row: ProcessRow, reason: string): void {
    if (this.closed) return;
    this.deps.store.setReason(row.tenantId, row.sandboxId, row.id, reason);
    void this.deps.runtime.signal(row.sandboxId, row.id, "SIGKILL").catch(() => undefined);
  }

  private async stdio(row: ProcessRow): Promise<ProcessStdio> {
    try {
      return await this.deps.runtime.stdio(row.sandboxId, row.id);
    } catch (err) {
      throw new AppError("service.unavailable", `the output of process \`${row.id}\` is not reachable right now; retry, or check that its sandbox runs`, {
        detail: { id: row.id, sandboxId: row.sandboxId },
        cause: err,
      });
    }
  }

  private readySandbox(tenantId: string, id: string): SandboxRow {
    const row = this.deps.sandbox(tenantId, id);
    if (row.lifecycleState !== "ready") {
      throw new AppError("op.conflict", `sandbox \`${id}\` is ${row.lifecycleState}; processes start only in a ready sandbox`, {
        detail: { lifecycleState: row.lifecycleState },
      });
    }
    return row;
  }

  private row(tenantId: string, sandboxId: string, id: string): ProcessRow {
    this.deps.sandbox(tenantId, sandboxId);
    const row = this.deps.store.get(tenantId, sandboxId, id);
    if (!row)
      throw new AppError(
        "op.not_found",
        `process \`${id}\` was not found in sandbox \`${sandboxId}\` (ended ones are kept for a while); list them with GET …/processes`,
        {
          detail: { kind: "process", id },
        },
      );
    return row;
  }

  private running(tenantId: string, sandboxId: string, id: string): ProcessRow {
    const row = this.row(tenantId, sandboxId, id);
    if (row.state !== "running")
      throw new AppError("op.conflict", `process \`${id}\` already exited with code ${row.exitCode}`, { detail: { id, exitCode: row.exitCode } });
    return row;
  }
}

function key(row: ProcessRow): string {
  return `${row.tenantId}\0${row.sandboxId}\0${row.id}`;
}

function argvOf(input: StartProcessInput): string[] {
  if (input.argv && input.cmd !== undefined) throw new AppError("op.invalid_input", "give either `argv` or `cmd`, not both", { detail: { field: "argv" } });
  if (input.cmd !== undefined) return ["/bin/sh", "-c", input.cmd];
  if (!input.argv || input.argv.length === 0)
    throw new AppError("op.invalid_input", "give the command: `argv` (a list) or `cmd` (a shell string)", { detail: { field: "argv" } });
  return input.argv;
}

function view(row: ProcessRow): ProcessView {
  return {
    id: row.id,
    sandboxId: row.sandboxId,
    argv: row.spec.argv,
    cwd: row.spec.cwd,
    user: row.spec.user,
    stdin: row.spec.stdin,
    ...(row.spec.tty ? { tty: row.spec.tty } : {}),
    detach: row.detach,
    ...(row.timeoutMs !== null ? { timeoutMs: row.timeoutMs } : {}),
    state: row.state,
    ...(row.exitCode !== null ? { exitCode: row.exitCode } : {}),
    ...(row.signal !== null ? { signal: row.signal } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    createdAt: row.createdAt,
    ...(row.endedAt !== null ? { endedAt: row.endedAt } : {}),
  };
}
