/**
 * A per-tenant setting the admin reads and replaces (egress ceiling, default
 * lifetime, limits): `GET|PUT /api/tenants/{t}/<name>`, admin only, both
 * answering the setting's view. One place spells the pair of routes.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { route, type RouteDef } from "../route.js";
import { TenantParams } from "../schemas/common.js";

export interface TenantSetting<View extends TSchema, Body extends TSchema> {
  /** The path segment under the tenant, e.g. `limits`. */
  name: string;
  view: View;
  body: Body;
  get: { summary: string; description: string; read(tenantId: string): Static<View> };
  put: { summary: string; description: string; write(tenantId: string, body: Static<Body>): Static<View> | Promise<Static<View>> };
}

export function tenantSettingRoutes<View extends TSchema, Body extends TSchema>(s: TenantSetting<View, Body>): RouteDef[] {
  const common = { path: `/api/tenants/:tenantId/${s.name}`, access: "admin", tag: "tenants", params: TenantParams } as const;
  return [
    route({
      ...common,
      method: "GET",
      summary: s.get.summary,
      responses: { 200: { description: s.get.description, schema: s.view } },
      handler: (ctx) => ({ status: 200, body: s.get.read(ctx.params.tenantId) }),
    }),
    route({
      ...common,
      method: "PUT",
      summary: s.put.summary,
      body: s.body,
      responses: { 200: { description: s.put.description, schema: s.view } },
      handler: async (ctx) => ({ status: 200, body: await s.put.write(ctx.params.tenantId, ctx.body) }),
    }),
  ];
}
