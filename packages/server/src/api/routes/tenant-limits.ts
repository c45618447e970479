/**
 * Tenant limits (ext, admin): the aggregate ceilings and concurrency caps of
 * one tenant (domain/tenant-limits.ts). PUT pins the fields given; `null`
 * returns a field to the server-wide default.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import type { TenantLimitsService } from "../../domain/tenant-limits.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams, strictObject } from "../schemas/common.js";

const MAX_COUNT = 1_000_000;

const FIELDS = {
  memoryLimitBytes: Type.Integer({
    minimum: 16 * 1024 * 1024,
    maximum: 2 ** 50,
    description: "memory of all the tenant's sandboxes together, bytes (kernel-enforced)",
  }),
  cpuCount: Type.Number({ minimum: 0.01, maximum: 4096, description: "CPU of all the tenant's sandboxes together, cores (at most the host's)" }),
  pidsLimit: Type.Integer({ minimum: 16, maximum: 4_194_304, description: "processes of all the tenant's sandboxes together" }),
  maxSandboxes: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "active sandboxes" }),
  maxSessions: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "open sessions" }),
  maxWebSockets: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "open WebSocket connections" }),
  maxExecs: Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: "exec processes running at once" }),
  maxPulls: Type.Integer({
    minimum: 0,
    maximum: MAX_COUNT,
    description: "distinct images being pulled at once for the tenant's sandboxes, and pulls at once through its pull route",
  }),
};

const LimitsSchema = strictObject(FIELDS);
const pin = <T extends TSchema>(s: T) => Type.Optional(Type.Union([s, Type.Null()]));
const PatchSchema = strictObject(
  {
    memoryLimitBytes: pin(FIELDS.memoryLimitBytes),
    cpuCount: pin(FIELDS.cpuCount),
    pidsLimit: pin(FIELDS.pidsLimit),
    maxSandboxes: pin(FIELDS.maxSandboxes),
    maxSessions: pin(FIELDS.maxSessions),
    maxWebSockets: pin(FIELDS.maxWebSockets),
    maxExecs: pin(FIELDS.maxExecs),
    maxPulls: pin(FIELDS.maxPulls),
  },
  "fields to pin; null returns a field to the server default; absent fields are unchanged",
);
const ViewSchema = strictObject({
  limits: LimitsSchema,
  defaults: LimitsSchema,
  overrides: Type.Partial(LimitsSchema),
});

export function tenantLimitRoutes(limits: TenantLimitsService): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/limits",
      access: "admin",
      tag: "tenants",
      summary: "(ext) A tenant's effective limits, the server defaults and the fields pinned for it",
      params: TenantParams,
      responses: { 200: { description: "limits", schema: ViewSchema } },
      handler: (ctx) => ({ status: 200, body: limits.view(ctx.params.tenantId) }),
    }),
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/limits",
      access: "admin",
      tag: "tenants",
      summary: "(ext) Pin or unpin a tenant's limits; ceilings apply to running sandboxes at once",
      params: TenantParams,
      body: PatchSchema,
      responses: { 200: { description: "the limits now in force", schema: ViewSchema } },
      handler: async (ctx) => ({ status: 200, body: await limits.set(ctx.params.tenantId, ctx.body) }),
    }),
  ];
}
