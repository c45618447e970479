/**
 * (ext) A tenant's registry credentials (issue 15, finding 18): `PUT|DELETE
 * /api/tenants/{t}/registry-credentials/{registry}`, `GET …/registry-credentials`.
 * The password goes in once and never comes out: answers carry the registry
 * host, the username and the times only.
 */
import { Type } from "@sinclair/typebox";
import type { RegistryCredentials } from "../../domain/registry-credentials.js";
import { deleteRoute, listRoute } from "../route-kinds.js";
import { route, type RouteDef } from "../route.js";
import { TenantIdSchema, TenantParams, strictObject } from "../schemas/common.js";

const CredentialView = strictObject({
  registry: Type.String({ description: "host[:port]; Docker Hub is docker.io" }),
  username: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
});

const RegistryParams = strictObject({ tenantId: TenantIdSchema, registry: Type.String({ minLength: 1, maxLength: 260, pattern: "^[A-Za-z0-9.:-]+$" }) });

const SetCredentialBody = strictObject({
  username: Type.String({ minLength: 1, maxLength: 256, pattern: "^[^:\\u0000-\\u001f\\u007f]+$", description: "no ':' (HTTP Basic)" }),
  password: Type.String({ minLength: 1, maxLength: 16384, description: "a password or access token; never returned or logged" }),
});

export function registryCredentialRoutes(credentials: RegistryCredentials): RouteDef[] {
  return [
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/registry-credentials/:registry",
      access: "tenant",
      tag: "tenants",
      summary:
        "(ext) Set the tenant's credentials for a registry host (created or replaced); the tenant's pulls from it present them; the password is never returned",
      params: RegistryParams,
      body: SetCredentialBody,
      responses: { 201: { description: "created", schema: CredentialView }, 200: { description: "replaced", schema: CredentialView } },
      handler: (ctx) => {
        const { view, created } = credentials.set(ctx.tenantId, ctx.params.registry, ctx.body);
        return { status: created ? 201 : 200, body: view };
      },
    }),
    listRoute({
      path: "/api/tenants/:tenantId/registry-credentials",
      access: "tenant",
      tag: "tenants",
      summary: "(ext) List the registries the tenant holds credentials for, without passwords",
      params: TenantParams,
      listed: "by registry host",
      item: CredentialView,
      list: (ctx) => credentials.list(ctx.tenantId),
    }),
    deleteRoute({
      path: "/api/tenants/:tenantId/registry-credentials/:registry",
      access: "tenant",
      tag: "tenants",
      summary: "(ext) Remove the tenant's credentials for a registry host",
      params: RegistryParams,
      removed: "removed",
      remove: (ctx) => {
        credentials.delete(ctx.tenantId, ctx.params.registry);
      },
    }),
  ];
}
