/**
 * `nimbus.sandboxes`: create, read, list, stop, delete, logs and wait for
 * sandboxes of a tenant (contract §4), plus exec (ext, in exec.ts).
 */
import { exec, execStream, type ExecOptions, type ExecResult } from "./exec.js";
import { FilesApi } from "./files.js";
import { expandQuickInput, isQuickInput, type QuickSandboxInput } from "./handle/quick-spec.js";
import { SandboxHandle } from "./handle/sandbox-handle.js";
import { followNdjson } from "./ndjson.js";
import { ProcessesApi } from "./processes.js";
import { paginate } from "./paging.js";
import { tenantPath } from "./tenant-path.js";
import { apiPath, type CallOptions, type Transport } from "./transport.js";
import type { Collection, Labels, PageOptions } from "./types/common.js";
import type { EgressLogEntry, EgressRule, LifecycleState, LogLine, Sandbox, SandboxProfile, SandboxSpec } from "./types/sandbox.js";
import type { ExecFrame } from "./types/session.js";
import { DEFAULT_WAIT_TIMEOUT_MS, waitFor } from "./wait.js";

/**
 * Input of {@link SandboxesApi.create}.
 *
 * @example
 * const input: CreateSandboxInput = { profile: "worker", spec, labels: { purpose: "demo" } };
 */
export interface CreateSandboxInput extends CallOptions {
  profile: SandboxProfile;
  spec: SandboxSpec;
  labels?: Labels;
}

/**
 * Addresses one sandbox.
 *
 * @example
 * const ref: SandboxRef = { id: "agent-task-01h..." };
 */
export interface SandboxRef extends CallOptions {
  id: string;
}

/**
 * Filters and paging of {@link SandboxesApi.list}.
 *
 * @example
 * await nimbus.sandboxes.list({ status: "ready", labelKey: "purpose", labelValue: "quickstart" });
 */
export interface ListSandboxesInput extends CallOptions, PageOptions {
  /** Exact lifecycle state. */
  status?: LifecycleState;
  labelKey?: string;
  labelValue?: string;
}

/**
 * Options of {@link SandboxesApi.wait}.
 *
 * @example
 * await nimbus.sandboxes.wait({ id, until: "ready", timeoutMs: 30_000 });
 */
export interface WaitSandboxInput extends SandboxRef {
  until: LifecycleState;
  /** @default 120000 */
  timeoutMs?: number;
}

/**
 * Options of {@link SandboxesApi.logs}.
 *
 * @example
 * const text = await nimbus.sandboxes.logs({ id, tail: 100 });
 */
export interface LogsInput extends SandboxRef {
  /** Stream new lines as they come. @default false */
  follow?: boolean;
  /** Only the last N lines. */
  tail?: number;
}

/**
 * Filters and paging of {@link SandboxesApi.egressLog}.
 *
 * @example
 * await nimbus.sandboxes.egressLog({ id, host: "api.example.com", since: "2026-01-01T00:00:00Z" });
 */
export interface EgressLogInput extends SandboxRef, PageOptions {
  decision?: "allowed" | "denied";
  /** Rows whose name or address is exactly this. */
  host?: string;
  /** ISO 8601 times, inclusive. */
  since?: string;
  until?: string;
}

/** States a sandbox never leaves on its own; waiting for another state fails there. */
const TERMINAL: ReadonlySet<string> = new Set(["failed", "stopped"]);

/**
 * Sandboxes of a tenant. Every method takes an optional `tenantId` that
 * overrides the client's.
 *
 * @example
 * const s = await nimbus.sandboxes.create({ profile: "worker", spec });
 * await nimbus.sandboxes.wait({ id: s.metadata.id, until: "ready" });
 */
export class SandboxesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  #base(tenantId?: string): string {
    return tenantPath(this.#t, tenantId, "sandboxes");
  }

  #one(ref: SandboxRef, suffix = ""): string {
    return `${this.#base(ref.tenantId)}${apiPath`/${ref.id}`}${suffix}`;
  }

  /**
   * Creates a sandbox; it usually comes back `pending` or `starting`.
   *
   * @example
   * const s = await nimbus.sandboxes.create({ profile: "worker", spec: { owner: { kind: "standalone" },
   *   backend: "container", root: { kind: "oci_image", source: { kind: "reference", reference: "alpine:3" } } } });
   */
  async create(input: CreateSandboxInput): Promise<Sandbox>;
  /**
   * The short form: `{ image }` creates a sandbox, waits until it is ready
   * and returns a {@link SandboxHandle} (commands, files, stop, delete,
   * `await using`). A sandbox that fails to start is deleted and its reason thrown.
   *
   * @example
   * await using sb = await nimbus.sandboxes.create({ image: "python:3.12" });
   * console.log((await sb.commands.run("python3 -V")).stdout);
   */
  async create(input: QuickSandboxInput): Promise<SandboxHandle>;
  async create(input: CreateSandboxInput | QuickSandboxInput): Promise<Sandbox | SandboxHandle> {
    if (isQuickInput(input)) return this.#createHandle(input);
    const { profile, spec, labels } = input;
    return this.#t.request({ method: "POST", path: this.#base(input.tenantId), json: { profile, spec, labels }, signal: input.signal });
  }

  async #createHandle(input: QuickSandboxInput): Promise<SandboxHandle> {
    const created = await this.create(expandQuickInput(input));
    const handle = new SandboxHandle({ sandboxes: this, files: new FilesApi(this.#t), processes: new ProcessesApi(this.#t) }, created, input.tenantId);
    try {
      await handle.wait("ready", { timeoutMs: input.readyTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS, signal: input.signal });
    } catch (err) {
      // Nothing left behind: a sandbox the caller never got a handle to is removed.
      await handle.delete().catch(() => undefined);
      throw err;
    }
    return handle;
  }

  /**
   * A handle to a sandbox that exists already.
   *
   * @example
   * const sb = await nimbus.sandboxes.connect({ id });
   * await sb.commands.run("uptime");
   */
  async connect(ref: SandboxRef): Promise<SandboxHandle> {
    const current = await this.get(ref);
    return new SandboxHandle({ sandboxes: this, files: new FilesApi(this.#t), processes: new ProcessesApi(this.#t) }, current, ref.tenantId);
  }

  /**
   * Reads one sandbox.
   *
   * @example
   * const s = await nimbus.sandboxes.get({ id });
   */
  async get(ref: SandboxRef): Promise<Sandbox> {
    return this.#t.request({ method: "GET", path: this.#one(ref), signal: ref.signal });
  }

  /**
   * Lists one page of sandboxes, sorted by id.
   *
   * @example
   * const { items, metadata } = await nimbus.sandboxes.list({ limit: 20 });
   */
  async list(input: ListSandboxesInput = {}): Promise<Collection<Sandbox>> {
    const { limit, pageToken, status, labelKey, labelValue } = input;
    return this.#t.request({
      method: "GET",
      path: this.#base(input.tenantId),
      query: { limit, pageToken, status, labelKey, labelValue },
      signal: input.signal,
    });
  }

  /**
   * Iterates over every sandbox, fetching pages as needed.
   *
   * @example
   * for await (const s of nimbus.sandboxes.listAll({ status: "ready" })) console.log(s.metadata.id);
   */
  listAll(input: ListSandboxesInput = {}): AsyncGenerator<Sandbox, void, undefined> {
    return paginate((pageToken) => this.list({ ...input, pageToken }), input.pageToken);
  }

  /**
   * Stops a sandbox (SIGTERM, grace period, SIGKILL); idempotent.
   *
   * @example
   * await nimbus.sandboxes.stop({ id, gracePeriodMs: 2000 });
   */
  async stop(input: SandboxRef & { gracePeriodMs?: number }): Promise<Sandbox> {
    const json = input.gracePeriodMs === undefined ? {} : { gracePeriodMs: input.gracePeriodMs };
    return this.#t.request({ method: "POST", path: this.#one(input, "/stop"), json, signal: input.signal });
  }

  /**
   * One page of the sandbox's egress decision log (ext): every connection
   * attempt and DNS query, oldest first, with the rule that decided.
   *
   * @example
   * const { items } = await nimbus.sandboxes.egressLog({ id, decision: "denied" });
   */
  async egressLog(input: EgressLogInput): Promise<Collection<EgressLogEntry>> {
    const { limit, pageToken, decision, host, since, until } = input;
    return this.#t.request({
      method: "GET",
      path: this.#one(input, "/egress"),
      query: { limit, pageToken, decision, host, since, until },
      signal: input.signal,
    });
  }

  /**
   * Replaces a running sandbox's egress rules (ext). `resourceVersion` is the
   * sandbox's `metadata.resourceVersion` as last read (412 when it moved on);
   * open connections the new rules refuse are closed.
   *
   * @example
   * const s = await nimbus.sandboxes.get({ id });
   * await nimbus.sandboxes.updateNetwork({ id, resourceVersion: s.metadata.resourceVersion, egress: [{ host: "pypi.org", protocol: "https" }] });
   */
  async updateNetwork(input: SandboxRef & { resourceVersion: string; egress: EgressRule[] }): Promise<Sandbox> {
    return this.#t.request({
      method: "PATCH",
      path: this.#one(input, "/network"),
      json: { resourceVersion: input.resourceVersion, egress: input.egress },
      signal: input.signal,
    });
  }

  /**
   * Deletes a sandbox from any state, stopping it first (ext): SIGTERM, then
   * SIGKILL after `gracePeriodMs` (0 kills at once).
   *
   * @example
   * await nimbus.sandboxes.delete({ id, gracePeriodMs: 0 });
   */
  async delete(ref: SandboxRef & { gracePeriodMs?: number }): Promise<void> {
    const query = ref.gracePeriodMs === undefined ? undefined : { gracePeriodMs: ref.gracePeriodMs };
    await this.#t.request({ method: "DELETE", path: this.#one(ref), query, signal: ref.signal });
  }

  /**
   * Moves a sandbox's TTL deadline (ext): `addSeconds` from the current
   * deadline (or from now when it has none), or a new `expiresAt`. Bounded by
   * the server (at most 7 days ahead). Also counts as activity for the idle timeout.
   *
   * @example
   * const s = await nimbus.sandboxes.extend({ id, addSeconds: 600 });
   * console.log(s.status.expiresAt);
   */
  async extend(input: SandboxRef & ({ addSeconds: number; expiresAt?: never } | { expiresAt: string; addSeconds?: never })): Promise<Sandbox> {
    const json = input.addSeconds !== undefined ? { addSeconds: input.addSeconds } : { expiresAt: input.expiresAt };
    return this.#t.request({ method: "POST", path: this.#one(input, "/extend"), json, signal: input.signal });
  }

  /**
   * Reads the main process output (ext): the text so far, or with
   * `follow: true` an async iterable of lines as they are written.
   *
   * @example
   * for await (const line of nimbus.sandboxes.logs({ id, follow: true })) process.stdout.write(line.data);
   */
  logs(input: LogsInput & { follow: true }): AsyncGenerator<LogLine, void, undefined>;
  logs(input: LogsInput & { follow?: false }): Promise<string>;
  logs(input: LogsInput): Promise<string> | AsyncGenerator<LogLine, void, undefined>;
  logs(input: LogsInput): Promise<string> | AsyncGenerator<LogLine, void, undefined> {
    if (input.follow) return this.#follow(input);
    return this.#text(input);
  }

  async #text(input: LogsInput): Promise<string> {
    const path = this.#one(input, "/logs");
    const res = await this.#t.send({ method: "GET", path, query: { tail: input.tail }, accept: "text/plain", signal: input.signal });
    return res.text();
  }

  async *#follow(input: LogsInput): AsyncGenerator<LogLine, void, undefined> {
    const query = { follow: 1, tail: input.tail };
    yield* followNdjson<LogLine>(this.#t, { method: "GET", path: this.#one(input, "/logs"), query, signal: input.signal });
  }

  /**
   * Waits until the sandbox reaches `until` by following the event stream
   * (ext). Throws `op.conflict` (detail `{lifecycleState, reason, exitCode}`)
   * if it ends `failed`/`stopped` instead or is deleted, and `client.timeout`
   * after `timeoutMs`.
   *
   * @example
   * const ready = await nimbus.sandboxes.wait({ id, until: "ready" });
   */
  async wait(input: WaitSandboxInput): Promise<Sandbox> {
    const { id } = input;
    return waitFor<Sandbox>(this.#t, input, {
      eventType: "sandbox",
      filter: { kind: "sandbox", id },
      label: `sandbox \`${id}\``,
      fetchCurrent: (signal) => this.get({ id, tenantId: input.tenantId, signal }),
      matches: (s) => s.metadata?.id === id,
      state: (s) => s.status.lifecycleState,
      isTerminal: (s) => TERMINAL.has(s.status.lifecycleState),
      failDetail: (s) => ({
        lifecycleState: s?.status.lifecycleState ?? null,
        reason: s?.status.reason ?? null,
        exitCode: s?.status.exitCode ?? null,
      }),
    });
  }

  /**
   * Runs a command in the sandbox and collects its output (ext).
   *
   * @example
   * const { exitCode, stdout } = await nimbus.sandboxes.exec({ id, argv: ["cat", "/etc/os-release"] });
   */
  exec(input: ExecOptions): Promise<ExecResult> {
    return exec(this.#t, input);
  }

  /**
   * Runs a command in the sandbox and yields its frames as they arrive (ext).
   *
   * @example
   * for await (const f of nimbus.sandboxes.execStream({ id, argv: ["ls"] })) if (f.kind === "stdout") console.log(f.data);
   */
  execStream(input: ExecOptions): AsyncGenerator<ExecFrame, void, undefined> {
    return execStream(this.#t, input);
  }
}
