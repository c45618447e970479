/**
 * Admin namespaces: `nimbus.tenants` (tenants and their API keys) and
 * `nimbus.system` (admin token rotation). They need the admin token.
 */
import { listItems } from "./paging.js";
import { apiPath, type Transport } from "./transport.js";
import type {
  ApiKey,
  CreatedApiKey,
  EgressCeiling,
  EgressCeilingView,
  RotatedToken,
  TenantLifetimeView,
  TenantLimits,
  TenantLimitsView,
} from "./types/admin.js";
import type { LifetimeSpec } from "./types/sandbox.js";

type Signal = { signal?: AbortSignal };

/**
 * Tenant API keys (ext): a key acts only inside its tenant.
 *
 * @example
 * const { key } = await nimbus.tenants.apiKeys.create({ tenantId: "demo", name: "ci" });
 */
export class ApiKeysApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Mints a key; `key` is returned only this once.
   *
   * @example
   * const created = await nimbus.tenants.apiKeys.create({ tenantId: "demo" });
   */
  async create(input: { tenantId: string; name?: string } & Signal): Promise<CreatedApiKey> {
    const json = input.name === undefined ? {} : { name: input.name };
    return this.#t.request({ method: "POST", path: apiPath`/api/tenants/${input.tenantId}/api-keys`, json, signal: input.signal });
  }

  /**
   * Lists a tenant's keys (no secrets).
   *
   * @example
   * const keys = await nimbus.tenants.apiKeys.list({ tenantId: "demo" });
   */
  async list(input: { tenantId: string } & Signal): Promise<ApiKey[]> {
    const path = apiPath`/api/tenants/${input.tenantId}/api-keys`;
    return listItems<ApiKey>(this.#t, path, input.signal);
  }

  /**
   * Revokes a key; it stops working at once.
   *
   * @example
   * await nimbus.tenants.apiKeys.revoke({ tenantId: "demo", id: created.id });
   */
  async revoke(input: { tenantId: string; id: string } & Signal): Promise<void> {
    const path = apiPath`/api/tenants/${input.tenantId}/api-keys/${input.id}`;
    await this.#t.request({ method: "DELETE", path, signal: input.signal });
  }
}

/**
 * A tenant's egress ceiling (ext, admin): sandbox rules outside it are refused.
 *
 * @example
 * await nimbus.tenants.egress.set({ tenantId: "demo", hosts: ["*.corp.example"], ports: [443], allowAddresses: false });
 */
export class TenantEgressApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * The ceiling in force (the default one until an operator sets one).
   *
   * @example
   * const { hosts, ports } = await nimbus.tenants.egress.get({ tenantId: "demo" });
   */
  async get(input: { tenantId: string } & Signal): Promise<EgressCeilingView> {
    return this.#t.request({ method: "GET", path: apiPath`/api/tenants/${input.tenantId}/egress`, signal: input.signal });
  }

  /**
   * Replaces the ceiling.
   *
   * @example
   * await nimbus.tenants.egress.set({ tenantId: "demo", hosts: ["*"], ports: [443, "8000-8099"], allowAddresses: false });
   */
  async set(input: { tenantId: string } & EgressCeiling & Signal): Promise<EgressCeilingView> {
    const { tenantId, signal, ...json } = input;
    return this.#t.request({ method: "PUT", path: apiPath`/api/tenants/${tenantId}/egress`, json, signal });
  }
}

/**
 * Tenant limits (ext, admin): aggregate ceilings and concurrency caps.
 *
 * @example
 * await nimbus.tenants.limits.set({ tenantId: "demo", limits: { memoryLimitBytes: 2 ** 30, maxExecs: 8 } });
 */
export class TenantLimitsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * The limits in force, the server defaults and the pinned fields.
   *
   * @example
   * const { limits } = await nimbus.tenants.limits.get({ tenantId: "demo" });
   */
  async get(input: { tenantId: string } & Signal): Promise<TenantLimitsView> {
    return this.#t.request({ method: "GET", path: apiPath`/api/tenants/${input.tenantId}/limits`, signal: input.signal });
  }

  /**
   * Pins the given fields; `null` returns one to the server default. Ceilings apply to running sandboxes at once.
   *
   * @example
   * await nimbus.tenants.limits.set({ tenantId: "demo", limits: { cpuCount: 2, maxSessions: null } });
   */
  async set(input: { tenantId: string; limits: { [K in keyof TenantLimits]?: number | null } } & Signal): Promise<TenantLimitsView> {
    return this.#t.request({ method: "PUT", path: apiPath`/api/tenants/${input.tenantId}/limits`, json: input.limits, signal: input.signal });
  }
}

/**
 * The default lifetime of a tenant's new sandboxes (ext, admin); a sandbox's
 * own `spec.lifetime` fields win over it.
 *
 * @example
 * await nimbus.tenants.lifetime.set({ tenantId: "demo", lifetime: { idleTimeoutSeconds: 900, onExpire: "delete" } });
 */
export class TenantLifetimeApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * The tenant's default lifetime (`{}` when none is set).
   *
   * @example
   * const { lifetime } = await nimbus.tenants.lifetime.get({ tenantId: "demo" });
   */
  async get(input: { tenantId: string } & Signal): Promise<TenantLifetimeView> {
    return this.#t.request({ method: "GET", path: apiPath`/api/tenants/${input.tenantId}/lifetime`, signal: input.signal });
  }

  /**
   * Replaces the tenant's default lifetime; `{}` removes it. Applies to sandboxes created afterwards.
   *
   * @example
   * await nimbus.tenants.lifetime.set({ tenantId: "demo", lifetime: { ttlSeconds: 86400 } });
   */
  async set(input: { tenantId: string; lifetime: LifetimeSpec } & Signal): Promise<TenantLifetimeView> {
    return this.#t.request({ method: "PUT", path: apiPath`/api/tenants/${input.tenantId}/lifetime`, json: input.lifetime, signal: input.signal });
  }
}

/**
 * Tenants (admin).
 *
 * @example
 * await nimbus.tenants.create({ id: "demo" });
 * console.log(await nimbus.tenants.list()); // ["demo"]
 */
export class TenantsApi {
  readonly #t: Transport;
  /** API keys of a tenant. */
  readonly apiKeys: ApiKeysApi;
  /** Egress ceilings of a tenant (ext). */
  readonly egress: TenantEgressApi;
  /** Limits of a tenant (ext). */
  readonly limits: TenantLimitsApi;
  /** The default lifetime of a tenant's sandboxes (ext). */
  readonly lifetime: TenantLifetimeApi;

  constructor(transport: Transport) {
    this.#t = transport;
    this.apiKeys = new ApiKeysApi(transport);
    this.egress = new TenantEgressApi(transport);
    this.limits = new TenantLimitsApi(transport);
    this.lifetime = new TenantLifetimeApi(transport);
  }

  /**
   * Creates a tenant; an existing id → `NimbusConflictError` (`op.already_exists`).
   *
   * @example
   * await nimbus.tenants.create({ id: "demo" });
   */
  async create(input: { id: string } & Signal): Promise<{ id: string }> {
    return this.#t.request({ method: "POST", path: "/api/tenants", json: { id: input.id }, signal: input.signal });
  }

  /**
   * Lists tenant ids.
   *
   * @example
   * const ids = await nimbus.tenants.list();
   */
  async list(options: Signal = {}): Promise<string[]> {
    return (await this.#t.request<{ tenants: string[] }>({ method: "GET", path: "/api/tenants", signal: options.signal })).tenants;
  }

  /**
   * Deletes a tenant: stops its sandboxes, closes its sessions, removes its data.
   *
   * @example
   * await nimbus.tenants.delete({ id: "demo" });
   */
  async delete(input: { id: string } & Signal): Promise<void> {
    await this.#t.request({ method: "DELETE", path: apiPath`/api/tenants/${input.id}`, signal: input.signal });
  }
}

/**
 * Server administration.
 *
 * @example
 * const { generation } = await nimbus.system.rotateToken();
 */
export class SystemApi {
  readonly #t: Transport;
  readonly #onRotated: (token: string) => void;

  constructor(transport: Transport, onRotated: (token: string) => void = () => {}) {
    this.#t = transport;
    this.#onRotated = onRotated;
  }

  /**
   * Rotates the admin token; the old one stops working at once. A client
   * that authenticated with the admin token switches to the new one.
   *
   * @example
   * const { token } = await nimbus.system.rotateToken();
   */
  async rotateToken(options: Signal = {}): Promise<RotatedToken> {
    const rotated = await this.#t.request<RotatedToken>({ method: "POST", path: "/api/system/token/rotate", json: {}, signal: options.signal });
    this.#onRotated(rotated.token);
    return rotated;
  }
}
