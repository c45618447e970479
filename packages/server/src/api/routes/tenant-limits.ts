/**
 * Tenant limits (ext, admin): the aggregate ceilings and concurrency caps of
 * one tenant (domain/tenant-limits.ts). PUT pins the fields given; `null`
 * returns a field to the server-wide default.
 */
import type { TenantLimitsService } from "../../domain/tenant-limits.js";
import { route, type RouteDef } from "../route.js";
import { TenantLimitsPatchSchema, TenantLimitsViewSchema } from "../schemas/tenant.js";
import { TenantParams } from "../schemas/common.js";

export function tenantLimitRoutes(limits: TenantLimitsService): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/limits",
      access: "admin",
      tag: "tenants",
      summary: "(ext) A tenant's effective limits, the server defaults and the fields pinned for it",
      params: TenantParams,
      responses: { 200: { description: "limits", schema: TenantLimitsViewSchema } },
      handler: (ctx) => ({ status: 200, body: limits.view(ctx.params.tenantId) }),
    }),
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/limits",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Pin or unpin a tenant's limits; ceilings apply to running sandboxes at once",
      params: TenantParams,
      body: TenantLimitsPatchSchema,
      responses: { 200: { description: "the limits now in force", schema: TenantLimitsViewSchema } },
      handler: async (ctx) => ({ status: 200, body: await limits.set(ctx.params.tenantId, ctx.body) }),
    }),
  ];
}
