/**
 * The request surface the resource namespaces use. `Nimbus` implements it;
 * namespaces depend only on this interface, so they never import the client.
 */
import { NimbusInvalidInputError } from "./errors.js";

/**
 * A query parameter value; `undefined` and `null` are left out.
 *
 * @example
 * const q: Record<string, QueryValue> = { limit: 10, pageToken: undefined };
 */
export type QueryValue = string | number | boolean | undefined | null;

/**
 * A raw request body: bytes, text, or a stream (sent with `duplex: "half"`).
 *
 * @example
 * const body: RawBody = Buffer.from("hello");
 */
export type RawBody = string | Uint8Array | AsyncIterable<Uint8Array>;

/**
 * One HTTP request to the server.
 *
 * @example
 * await nimbus.request({ method: "GET", path: "/api/tenants" });
 */
export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** Absolute path; build it with {@link apiPath} so parameters are encoded. */
  path: string;
  query?: Record<string, QueryValue>;
  /** A JSON body, sent with `content-type: application/json`. */
  json?: unknown;
  /** A raw body (used instead of `json`). */
  body?: RawBody;
  headers?: Record<string, string>;
  /** @default "application/json" */
  accept?: string;
  /** Aborts the request; without it requests never time out. */
  signal?: AbortSignal;
  /** Send the credential. @default true */
  auth?: boolean;
}

/**
 * What resource namespaces need from the client.
 *
 * @example
 * async function count(t: Transport) { return (await t.request<{ tenants: string[] }>({ method: "GET", path: "/api/tenants" })).tenants.length; }
 */
export interface Transport {
  /** Sends a request and returns the 2xx response; throws a typed error otherwise. */
  send(spec: RequestSpec): Promise<Response>;
  /** Sends a request and parses the JSON answer (`undefined` for 204). */
  request<T>(spec: RequestSpec): Promise<T>;
  /** The tenant for a call: the per-call value, else the client's; throws a config error if none. */
  resolveTenantId(perCall?: string): string;
}

/**
 * Builds a path from a template, `encodeURIComponent`-ing every parameter.
 * An empty, `.` or `..` parameter would address another route (URLs
 * normalize dot segments), so it is refused with `op.invalid_input`.
 *
 * @example
 * apiPath`/api/tenants/${"demo"}/sandboxes/${"a/b?c"}`; // "/api/tenants/demo/sandboxes/a%2Fb%3Fc"
 */
export function apiPath(strings: TemplateStringsArray, ...params: Array<string | number>): string {
  let out = strings[0] ?? "";
  params.forEach((p, i) => {
    const value = String(p);
    if (value === "" || value === "." || value === "..") {
      throw new NimbusInvalidInputError({
        code: "op.invalid_input",
        message: `"${value}" cannot be used as an id or name in a path; pass the resource's real id or name`,
      });
    }
    out += encodeURIComponent(value) + (strings[i + 1] ?? "");
  });
  return out;
}

/**
 * Options every call accepts.
 *
 * @example
 * await nimbus.sandboxes.get({ id, tenantId: "other", signal: AbortSignal.timeout(5000) });
 */
export interface CallOptions {
  /** Overrides the client's tenant for this call. */
  tenantId?: string;
  /** Aborts the call. */
  signal?: AbortSignal;
}
