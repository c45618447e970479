/**
 * Who is calling. The admin token may arrive as `Authorization: Bearer` or
 * `X-Nimbus-Admin-Token`; tenant API keys (ext) as `X-Nimbus-Api-Key` or
 * Bearer. The token is held only as a digest and compared in constant time.
 * Tenant authorization never reveals whether another tenant exists: a key of
 * tenant A asking about tenant B gets the same 404 as for a missing tenant.
 */
import type { IncomingMessage } from "node:http";
import { AppError, notFound, invalidInput } from "../domain/errors.js";
import type { Tenants } from "../domain/tenants.js";
import { digestSecret, secretMatches } from "../host/admin-token.js";

export type Principal = { kind: "admin" } | { kind: "tenant"; tenantId: string; keyId: string };

/** Holds the current admin token digest; rotation swaps it so the old token stops working at once. */
export class AdminTokenVerifier {
  private digest: Buffer;
  constructor(token: string) {
    this.digest = digestSecret(token);
  }
  replace(token: string): void {
    this.digest = digestSecret(token);
  }
  matches(presented: string): boolean {
    return secretMatches(presented, this.digest);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function unauthorized(
  message = "a credential is required: send the admin token as `Authorization: Bearer <token>` (see `nimbus auth token`) or a tenant API key as `X-Nimbus-Api-Key`",
): AppError {
  return new AppError("auth.unauthorized", message);
}

/**
 * Returns undefined when no credential was presented; throws 401 when one was
 * presented but is not valid (so a typo is not mistaken for anonymous access).
 */
export function authenticate(req: IncomingMessage, admin: AdminTokenVerifier, tenants: Tenants): Principal | undefined {
  const authz = header(req, "authorization");
  const adminHeader = header(req, "x-nimbus-admin-token");
  const keyHeader = header(req, "x-nimbus-api-key");
  let bearer: string | undefined;
  if (authz !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authz);
    if (!m) throw unauthorized("the Authorization header must be `Bearer <token>`");
    bearer = m[1];
  }
  if (adminHeader !== undefined) {
    if (admin.matches(adminHeader)) return { kind: "admin" };
    throw unauthorized("the admin token is not valid (it may have been rotated: see `nimbus auth token`)");
  }
  const presented = keyHeader ?? bearer;
  if (presented === undefined) return undefined;
  if (keyHeader === undefined && admin.matches(presented)) return { kind: "admin" };
  const key = tenants.authenticateKey(presented);
  if (key) return { kind: "tenant", ...key };
  throw unauthorized("the credential is not valid (a rotated admin token or a revoked API key?)");
}

export function requireAdmin(principal: Principal | undefined): void {
  if (!principal) throw unauthorized();
  if (principal.kind !== "admin") throw new AppError("auth.forbidden", "this route needs the admin token; tenant API keys cannot use it");
}

/** Resolve the tenant a tenant-scoped call acts in, or throw 400/401/404. */
export function authorizeTenant(principal: Principal | undefined, tenants: Tenants, tenantId: string | undefined): string {
  if (!principal) throw unauthorized();
  if (principal.kind === "tenant") {
    if (tenantId === undefined || tenantId === principal.tenantId) return principal.tenantId;
    throw notFound("tenant", tenantId);
  }
  if (tenantId === undefined) throw invalidInput("`tenantId` is required when using the admin token", { field: "tenantId" });
  tenants.require(tenantId);
  return tenantId;
}
