/**
 * (ext) A tenant's egress ceiling (issue 17), admin only: `GET|PUT
 * /api/tenants/{t}/egress`. Sandbox rules outside it are refused at create.
 */
import { Type } from "@sinclair/typebox";
import type { EgressCeilings } from "../../domain/egress-ceilings.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams, strictObject } from "../schemas/common.js";

const Port = Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ pattern: "^\\d{1,5}-\\d{1,5}$" })]);
const CeilingBody = strictObject({
  hosts: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
    maxItems: 256,
    description: "*, host names, *.suffix patterns, or (with allowAddresses) IPs and CIDRs",
  }),
  ports: Type.Array(Port, { maxItems: 64, description: "ports or from-to ranges" }),
  allowAddresses: Type.Boolean({ description: "whether sandbox rules may name literal addresses" }),
});
const CeilingView = strictObject({
  hosts: Type.Array(Type.String()),
  ports: Type.Array(Port),
  allowAddresses: Type.Boolean(),
  custom: Type.Boolean({ description: "false while the tenant runs under the default ceiling" }),
  updatedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});

export function tenantEgressRoutes(ceilings: EgressCeilings): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/egress",
      access: "admin",
      tag: "tenants",
      summary: "(ext) A tenant's egress ceiling: the hosts and ports its sandboxes may ever ask for",
      params: TenantParams,
      responses: { 200: { description: "the ceiling", schema: CeilingView } },
      handler: (ctx) => ({ status: 200, body: ceilings.get(ctx.params.tenantId) }),
    }),
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/egress",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Set a tenant's egress ceiling",
      params: TenantParams,
      body: CeilingBody,
      responses: { 200: { description: "the ceiling now", schema: CeilingView } },
      handler: (ctx) => ({ status: 200, body: ceilings.set(ctx.params.tenantId, ctx.body) }),
    }),
  ];
}
