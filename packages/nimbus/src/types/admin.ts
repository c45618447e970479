/**
 * Wire types of admin routes: tenants, tenant API keys, token rotation and
 * images.
 */
import type { LifetimeSpec } from "./sandbox.js";
import type { Timestamp, WireError } from "./common.js";

/**
 * A tenant API key as listed (no secret).
 *
 * @example
 * for (const k of await nimbus.tenants.apiKeys.list({ tenantId: "demo" })) console.log(k.id);
 */
export interface ApiKey {
  id: string;
  name?: string;
  createdAt: Timestamp;
  lastUsedAt?: Timestamp;
}

/**
 * A freshly created tenant API key: `key` is shown only once.
 *
 * @example
 * const { key } = await nimbus.tenants.apiKeys.create({ tenantId: "demo" });
 */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/**
 * The result of rotating the admin token.
 *
 * @example
 * const { generation, token } = await nimbus.system.rotateToken();
 */
export interface RotatedToken {
  generation: number;
  token: string;
}

/**
 * An image in the server's content store.
 *
 * @example
 * const img: ImageRecord = await nimbus.images.pull({ reference: "alpine:3" });
 */
export interface ImageRecord {
  reference: string;
  /** Marked public by the operator: every tenant may use it. */
  public?: boolean;
  digest: string;
  sizeBytes: number;
  pulledAt: Timestamp;
  layers: number | unknown[];
}

/**
 * A progress line of a streamed pull. The `done` line carries the image
 * record under `image`; the `error` line the error under `error`.
 *
 * @example
 * await nimbus.images.pull({ reference, onProgress: (p) => console.log(p.kind) });
 */
export type PullProgress =
  | { kind: "resolved"; [field: string]: unknown }
  | { kind: "layer"; [field: string]: unknown }
  | { kind: "done"; image?: ImageRecord; [field: string]: unknown }
  | { kind: "error"; error: WireError; [field: string]: unknown };

/**
 * What an image prune removed.
 *
 * @example
 * const { freedBytes } = await nimbus.images.prune();
 */
export interface PruneResult {
  removedImages: number;
  removedLayers: number;
  freedBytes: number;
}

/** (ext) A tenant's egress ceiling: the hosts and ports its sandboxes may ever ask for. */
export interface EgressCeiling {
  /** `*`, host names, `*.suffix` patterns, or (with allowAddresses) IPs and CIDRs. */
  hosts: string[];
  /** Ports, or `from-to` ranges. */
  ports: Array<number | string>;
  allowAddresses: boolean;
}

/** The ceiling as the server reports it. */
export interface EgressCeilingView extends EgressCeiling {
  /** false while the tenant runs under the default ceiling. */
  custom: boolean;
  updatedAt: string | null;
}

/**
 * A tenant's limits: aggregate ceilings over all its sandboxes (kernel-enforced)
 * and caps on concurrent use, each answered with 429 `rate.resource_exhausted`.
 *
 * @example
 * const { limits } = await nimbus.tenants.limits.get({ tenantId: "demo" });
 */
export interface TenantLimits {
  /** Memory of all the tenant's sandboxes together, bytes. @default 75% of the host's RAM */
  memoryLimitBytes: number;
  /** CPU of all the tenant's sandboxes together, cores. @default every core */
  cpuCount: number;
  /** Processes of all the tenant's sandboxes together. @default a quarter of kernel.pid_max */
  pidsLimit: number;
  /** Active sandboxes. @default 64 */
  maxSandboxes: number;
  /** Open sessions. @default 256 */
  maxSessions: number;
  /** Open WebSocket connections. @default 128 */
  maxWebSockets: number;
  /** Exec processes running at once. @default 32 */
  maxExecs: number;
  /** Distinct images being pulled at once for the tenant's sandboxes (creates of one image share its pull). @default 4 */
  maxPulls: number;
}

/**
 * The limits in force for a tenant, the server defaults, and the fields pinned for it.
 *
 * @example
 * const view = await nimbus.tenants.limits.set({ tenantId: "demo", limits: { memoryLimitBytes: 2 ** 30 } });
 */
/**
 * A tenant's default sandbox lifetime (ext).
 *
 * @example
 * const view: TenantLifetimeView = { tenantId: "demo", lifetime: { idleTimeoutSeconds: 600, onExpire: "stop" } };
 */
export interface TenantLifetimeView {
  tenantId: string;
  lifetime: LifetimeSpec;
}

export interface TenantLimitsView {
  limits: TenantLimits;
  defaults: TenantLimits;
  overrides: Partial<TenantLimits>;
}
