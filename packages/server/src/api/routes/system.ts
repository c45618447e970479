/**
 * Server-level routes: health, the OpenAPI document, admin token rotation.
 */
import { Type } from "@sinclair/typebox";
import { route, type RouteDef } from "../route.js";
import { strictObject } from "../schemas/common.js";

export interface SystemRouteDeps {
  version: string;
  rotateAdminToken(): { generation: number; token: string };
  openapi(): unknown;
}

export function systemRoutes(deps: SystemRouteDeps): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/health",
      access: "public",
      tag: "system",
      summary: "Liveness: answers without a credential",
      responses: { 200: { description: "alive", schema: strictObject({ ok: Type.Boolean() }) } },
      handler: () => ({ status: 200, body: { ok: true } }),
    }),
    route({
      method: "GET",
      path: "/openapi.json",
      access: "public",
      tag: "system",
      summary: "This API as OpenAPI 3.1, generated from the route schemas",
      responses: { 200: { description: "the document", schema: Type.Record(Type.String(), Type.Unknown()) } },
      handler: () => ({ status: 200, body: deps.openapi() }),
    }),
    route({
      method: "POST",
      path: "/api/system/token/rotate",
      access: "admin",
      tag: "system",
      summary: "Mint a new admin token; the old one stops working at once",
      responses: { 200: { description: "the new token", schema: strictObject({ generation: Type.Integer(), token: Type.String() }) } },
      handler: () => ({ status: 200, body: deps.rotateAdminToken() }),
    }),
  ];
}
