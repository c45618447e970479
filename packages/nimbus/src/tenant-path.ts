/**
 * Paths under one tenant: most namespaces address `/api/tenants/{tenant}/…`
 * with the call's tenant, else the client's.
 */
import { apiPath, type Transport } from "./transport.js";

/**
 * `/api/tenants/{tenant}/{collection}`, or one member of it when `member` is
 * given; the tenant and the member are encoded (the collection is the SDK's own).
 *
 * @example
 * tenantPath(t, undefined, "secrets", "OPENAI"); // "/api/tenants/demo/secrets/OPENAI"
 */
export function tenantPath(t: Transport, tenantId: string | undefined, collection: string, member?: string): string {
  const base = `${apiPath`/api/tenants/${t.resolveTenantId(tenantId)}`}/${collection}`;
  return member === undefined ? base : `${base}${apiPath`/${member}`}`;
}
