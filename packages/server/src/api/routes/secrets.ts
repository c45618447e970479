/**
 * (ext) Tenant secrets (issue 17): `POST|GET /api/tenants/{t}/secrets`,
 * `DELETE /api/tenants/{t}/secrets/{name}`. A value goes in once and never
 * comes out: answers carry the name, hosts, header and format only.
 */
import { Type } from "@sinclair/typebox";
import type { Secrets } from "../../domain/secrets.js";
import { deleteRoute, listRoute } from "../route-kinds.js";
import { route, type RouteDef } from "../route.js";
import { SecretViewSchema } from "../schemas/tenant.js";
import { TenantIdSchema, TenantParams, strictObject } from "../schemas/common.js";

const SetSecretBody = strictObject({
  name: Type.String({ minLength: 1, maxLength: 64, description: "A-Z, 0-9 and _, starting with a letter; the sandbox sees NIMBUS_SECRET_<name>" }),
  value: Type.String({ minLength: 1, maxLength: 16384, description: "never returned or logged" }),
  hosts: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
    minItems: 1,
    maxItems: 32,
    description: "exact names or *.suffix patterns the value may be sent to",
  }),
  header: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: "Authorization" })),
  format: Type.Optional(Type.String({ minLength: 7, maxLength: 256, default: "Bearer {value}", description: "{value} is replaced by the value" })),
});

export function secretRoutes(secrets: Secrets): RouteDef[] {
  return [
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/secrets",
      access: "tenant",
      tag: "tenants",
      summary: "(ext) Set a secret (created or replaced); its value is never returned",
      params: TenantParams,
      body: SetSecretBody,
      responses: { 201: { description: "created", schema: SecretViewSchema }, 200: { description: "replaced", schema: SecretViewSchema } },
      handler: (ctx) => {
        const { view, created } = secrets.set(ctx.tenantId, ctx.body);
        return { status: created ? 201 : 200, body: view };
      },
    }),
    listRoute({
      path: "/api/tenants/:tenantId/secrets",
      access: "tenant",
      tag: "tenants",
      summary: "(ext) List the tenant's secrets, without their values",
      params: TenantParams,
      listed: "the secrets, by name",
      item: SecretViewSchema,
      list: (ctx) => secrets.list(ctx.tenantId),
    }),
    deleteRoute({
      path: "/api/tenants/:tenantId/secrets/:name",
      access: "tenant",
      tag: "tenants",
      summary: "(ext) Remove a secret",
      params: strictObject({ tenantId: TenantIdSchema, name: Type.String({ pattern: "^[A-Z][A-Z0-9_]{0,63}$" }) }),
      removed: "removed",
      remove: (ctx) => {
        secrets.delete(ctx.tenantId, ctx.params.name);
      },
    }),
  ];
}
