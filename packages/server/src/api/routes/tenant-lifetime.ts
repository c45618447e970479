/**
 * A tenant's default sandbox lifetime (ext, admin; domain/tenant-lifetime.ts).
 * PUT replaces it; `{}` removes it. Sandboxes created afterwards get it where
 * their own `spec.lifetime` leaves a field out.
 */
import type { TenantLifetimes } from "../../domain/tenant-lifetime.js";
import type { RouteDef } from "../route.js";
import { LifetimeSchema } from "../schemas/sandbox.js";
import { TenantLifetimeViewSchema } from "../schemas/tenant.js";
import { tenantSettingRoutes } from "./tenant-setting.js";

export function tenantLifetimeRoutes(lifetimes: TenantLifetimes): RouteDef[] {
  return tenantSettingRoutes({
    name: "lifetime",
    view: TenantLifetimeViewSchema,
    body: LifetimeSchema,
    get: {
      summary: "(ext) The default lifetime of a tenant's new sandboxes ({} when none is set)",
      description: "the default lifetime",
      read: (tenantId) => lifetimes.view(tenantId),
    },
    put: {
      summary: "(ext) Replace the default lifetime of a tenant's new sandboxes; {} removes it",
      description: "the default lifetime now in force",
      write: (tenantId, body) => lifetimes.set(tenantId, body),
    },
  });
}
