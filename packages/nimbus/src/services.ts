/**
 * `nimbus.services`: named, supervised workloads (contract §6): definitions
 * guarded by `generation`, runtime control, and wait (ext).
 */
import { paginate } from "./paging.js";
import { tenantPath } from "./tenant-path.js";
import type { CallOptions, Transport } from "./transport.js";
import type { Collection, Labels, PageOptions } from "./types/common.js";
import type { ServiceDefinition, ServiceRestartReceipt, ServiceSpec, ServiceView } from "./types/service.js";
import { waitFor } from "./wait.js";

/**
 * Input of {@link ServicesApi.create}.
 *
 * @example
 * const input: CreateServiceInput = { metadata: { name: "worker" }, spec: { backend: { kind: "sandbox", sandbox: spec } } };
 */
export interface CreateServiceInput extends CallOptions {
  metadata: { name: string; labels?: Labels };
  spec: ServiceSpec;
}

/**
 * Input of {@link ServicesApi.update}: `generation` must be the current one.
 *
 * @example
 * await nimbus.services.update({ metadata: { name: "worker", generation: def.metadata.generation }, spec });
 */
export interface UpdateServiceInput extends CallOptions {
  metadata: { name: string; generation: number; labels?: Labels };
  spec: ServiceSpec;
}

/**
 * Addresses one service by name.
 *
 * @example
 * const ref: ServiceRef = { name: "worker" };
 */
export interface ServiceRef extends CallOptions {
  name: string;
}

/**
 * Options of {@link ServicesApi.wait}.
 *
 * @example
 * await nimbus.services.wait({ name: "worker", until: "ready", timeoutMs: 60_000 });
 */
export interface WaitServiceInput extends ServiceRef {
  /** Matched against the view's `lifecycleState` or `state`. */
  until: "ready" | (string & {});
  /** @default 120000 */
  timeoutMs?: number;
}

/**
 * Options of {@link ServicesApi.start} and {@link ServicesApi.restart}.
 *
 * @example
 * await nimbus.services.start({ name: "worker", waitUntil: "ready" });
 */
export interface StartServiceInput extends ServiceRef {
  /** Wait for this state before resolving. @default no wait */
  waitUntil?: "ready";
  /** Wait timeout. @default 120000 */
  timeoutMs?: number;
}

/**
 * Services of a tenant.
 *
 * @example
 * await nimbus.services.create({ metadata: { name: "worker" }, spec });
 * const view = await nimbus.services.start({ name: "worker", waitUntil: "ready" });
 */
export class ServicesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  #path(tenantId: string | undefined, name?: string, action = ""): string {
    return name === undefined ? tenantPath(this.#t, tenantId, "services") : `${tenantPath(this.#t, tenantId, "services", name)}${action}`;
  }

  /**
   * Creates a definition (generation 1); a taken name → `NimbusConflictError`.
   *
   * @example
   * const def = await nimbus.services.create({ metadata: { name: "worker" }, spec });
   */
  async create(input: CreateServiceInput): Promise<ServiceDefinition> {
    const { metadata, spec } = input;
    return this.#t.request({ method: "POST", path: this.#path(input.tenantId), json: { metadata, spec }, signal: input.signal });
  }

  /**
   * Replaces a stopped service's definition; a stale generation →
   * `NimbusPreconditionError`, a running service → `NimbusConflictError`.
   *
   * @example
   * const def2 = await nimbus.services.update({ metadata: { name: "worker", generation: 1 }, spec });
   */
  async update(input: UpdateServiceInput): Promise<ServiceDefinition> {
    const { metadata, spec } = input;
    const path = this.#path(input.tenantId, metadata.name);
    return this.#t.request({ method: "PUT", path, json: { metadata, spec }, signal: input.signal });
  }

  /**
   * Deletes a definition. With open sessions or a running sandbox it fails
   * with 409 unless `force` (which closes sessions and stops the sandbox).
   *
   * @example
   * await nimbus.services.delete({ name: "worker", ifMatchGeneration: 2, force: true });
   */
  async delete(input: ServiceRef & { ifMatchGeneration: number; force?: boolean }): Promise<void> {
    const query = { ifMatchGeneration: input.ifMatchGeneration, force: input.force ? "true" : undefined };
    await this.#t.request({ method: "DELETE", path: this.#path(input.tenantId, input.name), query, signal: input.signal });
  }

  /**
   * Lists one page of services (runtime views), sorted by name.
   *
   * @example
   * const { items } = await nimbus.services.list();
   */
  async list(input: CallOptions & PageOptions = {}): Promise<Collection<ServiceView>> {
    const { limit, pageToken } = input;
    return this.#t.request({ method: "GET", path: this.#path(input.tenantId), query: { limit, pageToken }, signal: input.signal });
  }

  /**
   * Iterates over every service, fetching pages as needed.
   *
   * @example
   * for await (const s of nimbus.services.listAll()) console.log(s.name, s.state);
   */
  listAll(input: CallOptions & PageOptions = {}): AsyncGenerator<ServiceView, void, undefined> {
    return paginate((pageToken) => this.list({ ...input, pageToken }), input.pageToken);
  }

  /**
   * Reads the runtime view: state, backing sandbox, endpoints, restarts.
   *
   * @example
   * const { sandboxId, restartCount } = await nimbus.services.get({ name: "worker" });
   */
  async get(ref: ServiceRef): Promise<ServiceView> {
    return this.#t.request({ method: "GET", path: this.#path(ref.tenantId, ref.name), signal: ref.signal });
  }

  /**
   * Starts the service, optionally waiting until it is ready.
   *
   * @example
   * const view = await nimbus.services.start({ name: "worker", waitUntil: "ready", timeoutMs: 60_000 });
   */
  start(input: StartServiceInput): Promise<ServiceView> {
    return this.#control(input, "/start");
  }

  /**
   * Stops the service's sandbox (SIGTERM, then SIGKILL after `gracePeriodMs`,
   * default 10000); the definition stays.
   *
   * @example
   * await nimbus.services.stop({ name: "worker" });
   */
  async stop(ref: ServiceRef & { gracePeriodMs?: number }): Promise<ServiceView> {
    const json = ref.gracePeriodMs === undefined ? {} : { gracePeriodMs: ref.gracePeriodMs };
    return this.#t.request({ method: "POST", path: this.#path(ref.tenantId, ref.name, "/stop"), json, signal: ref.signal });
  }

  /**
   * Replaces the service's sandbox with a fresh one, optionally waiting.
   *
   * @example
   * await nimbus.services.restart({ name: "worker", waitUntil: "ready" });
   */
  restart(input: StartServiceInput): Promise<ServiceView> {
    return this.#control(input, "/restart");
  }

  /**
   * Upstream's restart request: 412 (`NimbusPreconditionError`) when
   * `sourceGeneration` is not the current generation; a repeated
   * `requestId` answers with the first receipt and does not restart again.
   *
   * @example
   * const receipt = await nimbus.services.requestRestart({ name: "web", sourceGeneration: 2, requestId: "deploy-42" });
   */
  async requestRestart(input: ServiceRef & { sourceGeneration?: number; requestId?: string; gracePeriodMs?: number }): Promise<ServiceRestartReceipt> {
    const { sourceGeneration, requestId, gracePeriodMs } = input;
    if (sourceGeneration === undefined && requestId === undefined)
      throw new TypeError("requestRestart needs sourceGeneration or requestId; use restart() otherwise");
    const json = {
      ...(sourceGeneration !== undefined ? { sourceGeneration } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      ...(gracePeriodMs !== undefined ? { gracePeriodMs } : {}),
    };
    return this.#t.request({ method: "POST", path: this.#path(input.tenantId, input.name, "/restart"), json, signal: input.signal });
  }

  async #control(input: StartServiceInput, action: string): Promise<ServiceView> {
    const path = this.#path(input.tenantId, input.name, action);
    const view = await this.#t.request<ServiceView>({ method: "POST", path, json: {}, signal: input.signal });
    if (!input.waitUntil) return view;
    const { name, tenantId, signal, timeoutMs } = input;
    return this.wait({ name, tenantId, signal, timeoutMs, until: input.waitUntil });
  }

  /**
   * Waits until the service's `lifecycleState` (or `state`) equals `until`,
   * via the event stream. Throws `op.conflict` if it ends `failed` or is
   * deleted, `client.timeout` after `timeoutMs`.
   *
   * @example
   * await nimbus.services.wait({ name: "worker", until: "ready" });
   */
  async wait(input: WaitServiceInput): Promise<ServiceView> {
    const { name, until } = input;
    return waitFor<ServiceView>(this.#t, input, {
      eventType: "service",
      filter: { kind: "service", name },
      label: `service \`${name}\``,
      fetchCurrent: (signal) => this.get({ name, tenantId: input.tenantId, signal }),
      matches: (v) => v.name === name,
      state: (v) => (v.lifecycleState === until || v.state === until ? until : v.lifecycleState),
      isTerminal: (v) => v.lifecycleState === "failed" || v.state === "failed",
      failDetail: (v) => ({ lifecycleState: v?.lifecycleState ?? null, state: v?.state ?? null, sandboxId: v?.sandboxId ?? null }),
    });
  }
}
