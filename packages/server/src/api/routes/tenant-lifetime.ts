/**
 * A tenant's default sandbox lifetime (ext, admin; domain/tenant-lifetime.ts).
 * PUT replaces it; `{}` removes it. Sandboxes created afterwards get it where
 * their own `spec.lifetime` leaves a field out.
 */
import { Type } from "@sinclair/typebox";
import type { TenantLifetimes } from "../../domain/tenant-lifetime.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams, strictObject } from "../schemas/common.js";
import { LifetimeSchema } from "../schemas/sandbox.js";
import { TenantLifetimeViewSchema } from "../schemas/tenant.js";

export function tenantLifetimeRoutes(lifetimes: TenantLifetimes): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/lifetime",
      access: "admin",
      tag: "tenants",
      summary: "(ext) The default lifetime of a tenant's new sandboxes ({} when none is set)",
      params: TenantParams,
      responses: { 200: { description: "the default lifetime", schema: TenantLifetimeViewSchema } },
      handler: (ctx) => ({ status: 200, body: lifetimes.view(ctx.params.tenantId) }),
    }),
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/lifetime",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Replace the default lifetime of a tenant's new sandboxes; {} removes it",
      params: TenantParams,
      body: LifetimeSchema,
      responses: { 200: { description: "the default lifetime now in force", schema: TenantLifetimeViewSchema } },
      handler: (ctx) => ({ status: 200, body: lifetimes.set(ctx.params.tenantId, ctx.body) }),
    }),
  ];
}
