/**
 * Tenant limits (ext, admin): the aggregate ceilings and concurrency caps of
 * one tenant (domain/tenant-limits.ts). PUT pins the fields given; `null`
 * returns a field to the server-wide default.
 */
import type { TenantLimitsService } from "../../domain/tenant-limits.js";
import type { RouteDef } from "../route.js";
import { TenantLimitsPatchSchema, TenantLimitsViewSchema } from "../schemas/tenant.js";
import { tenantSettingRoutes } from "./tenant-setting.js";

export function tenantLimitRoutes(limits: TenantLimitsService): RouteDef[] {
  return tenantSettingRoutes({
    name: "limits",
    view: TenantLimitsViewSchema,
    body: TenantLimitsPatchSchema,
    get: {
      summary: "(ext) A tenant's effective limits, the server defaults and the fields pinned for it",
      description: "limits",
      read: (tenantId) => limits.view(tenantId),
    },
    put: {
      summary: "(ext) Pin or unpin a tenant's limits; ceilings apply to running sandboxes at once",
      description: "the limits now in force",
      write: (tenantId, body) => limits.set(tenantId, body),
    },
  });
}
