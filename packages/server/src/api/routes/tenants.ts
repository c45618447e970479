/**
 * Tenant administration (contract §3): admin-only create/list/delete and
 * tenant API keys (ext).
 */
import { Type } from "@sinclair/typebox";
import type { Tenants } from "../../domain/tenants.js";
import { deleteRoute, listRoute } from "../route-kinds.js";
import { route, type RouteDef } from "../route.js";
import { ApiKeySchema, CreatedApiKeySchema } from "../schemas/tenant.js";
import { TenantIdSchema, TenantParams, strictObject } from "../schemas/common.js";

export function tenantRoutes(tenants: Tenants): RouteDef[] {
  return [
    route({
      method: "POST",
      path: "/api/tenants",
      access: "admin",
      tag: "tenants",
      summary: "Create a tenant",
      body: strictObject({ id: TenantIdSchema }),
      responses: { 201: { description: "created", schema: strictObject({ id: Type.String() }) } },
      handler: (ctx) => ({ status: 201, body: tenants.create(ctx.body.id) }),
    }),
    route({
      method: "GET",
      path: "/api/tenants",
      access: "admin",
      tag: "tenants",
      summary: "List tenant ids",
      responses: { 200: { description: "tenant ids, sorted", schema: strictObject({ tenants: Type.Array(Type.String()) }) } },
      handler: () => ({ status: 200, body: { tenants: tenants.list() } }),
    }),
    deleteRoute({
      path: "/api/tenants/:tenantId",
      access: "admin",
      tag: "tenants",
      summary: "Delete a tenant: stops its sandboxes, closes its sessions, removes its services and data",
      params: TenantParams,
      removed: "deleted",
      remove: (ctx) => tenants.delete(ctx.params.tenantId),
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/api-keys",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Create a tenant API key; the key is shown once",
      params: TenantParams,
      body: strictObject({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }),
      responses: { 201: { description: "created", schema: CreatedApiKeySchema } },
      handler: (ctx) => ({ status: 201, body: tenants.createKey(ctx.params.tenantId, ctx.body.name ?? null) }),
    }),
    listRoute({
      path: "/api/tenants/:tenantId/api-keys",
      access: "admin",
      tag: "tenants",
      summary: "(ext) List a tenant's API keys (never the secrets)",
      params: TenantParams,
      listed: "keys",
      item: ApiKeySchema,
      list: (ctx) => tenants.listKeys(ctx.params.tenantId),
    }),
    deleteRoute({
      path: "/api/tenants/:tenantId/api-keys/:keyId",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Revoke a tenant API key",
      params: strictObject({ tenantId: TenantIdSchema, keyId: Type.String({ pattern: "^[0-9a-f]{16}$" }) }),
      removed: "revoked",
      remove: (ctx) => {
        tenants.revokeKey(ctx.params.tenantId, ctx.params.keyId);
      },
    }),
  ];
}
