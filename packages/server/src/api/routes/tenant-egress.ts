/**
 * (ext) A tenant's egress ceiling (issue 17), admin only: `GET|PUT
 * /api/tenants/{t}/egress`. Sandbox rules outside it are refused at create.
 */
import type { EgressCeilings } from "../../domain/egress-ceilings.js";
import { route, type RouteDef } from "../route.js";
import { EgressCeilingBody, EgressCeilingViewSchema } from "../schemas/tenant.js";
import { TenantParams } from "../schemas/common.js";

export function tenantEgressRoutes(ceilings: EgressCeilings): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/egress",
      access: "admin",
      tag: "tenants",
      summary: "(ext) A tenant's egress ceiling: the hosts and ports its sandboxes may ever ask for",
      params: TenantParams,
      responses: { 200: { description: "the ceiling", schema: EgressCeilingViewSchema } },
      handler: (ctx) => ({ status: 200, body: ceilings.get(ctx.params.tenantId) }),
    }),
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/egress",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Set a tenant's egress ceiling",
      params: TenantParams,
      body: EgressCeilingBody,
      responses: { 200: { description: "the ceiling now", schema: EgressCeilingViewSchema } },
      handler: (ctx) => ({ status: 200, body: ceilings.set(ctx.params.tenantId, ctx.body) }),
    }),
  ];
}
