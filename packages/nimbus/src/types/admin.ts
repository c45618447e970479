/**
 * Wire types of admin routes: tenants, tenant API keys, token rotation and
 * images.
 */
/** Generated from the server's schemas: see ../wire.ts. */
import type {
  ApiKey,
  CreatedApiKey,
  ImageConfig,
  ImageRecord,
  PruneResult,
  TenantLimits,
  TenantLimitsView,
  EgressCeilingView,
  TenantLifetimeView,
} from "../wire.js";
export type { ApiKey, CreatedApiKey, ImageConfig, ImageRecord, PruneResult, TenantLimits, TenantLimitsView, EgressCeilingView, TenantLifetimeView };
import type { WireError } from "./common.js";

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

/** (ext) A tenant's egress ceiling: the hosts and ports its sandboxes may ever ask for. */
export interface EgressCeiling {
  /** `*`, host names, `*.suffix` patterns, or (with allowAddresses) IPs and CIDRs. */
  hosts: string[];
  /** Ports, or `from-to` ranges. */
  ports: Array<number | string>;
  allowAddresses: boolean;
}
