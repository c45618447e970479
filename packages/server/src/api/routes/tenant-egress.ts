/**
 * (ext) A tenant's egress ceiling (issue 17), admin only: `GET|PUT
 * /api/tenants/{t}/egress`. Sandbox rules outside it are refused at create.
 */
import type { EgressCeilings } from "../../domain/egress-ceilings.js";
import type { RouteDef } from "../route.js";
import { EgressCeilingBody, EgressCeilingViewSchema } from "../schemas/tenant.js";
import { tenantSettingRoutes } from "./tenant-setting.js";

export function tenantEgressRoutes(ceilings: EgressCeilings): RouteDef[] {
  return tenantSettingRoutes({
    name: "egress",
    view: EgressCeilingViewSchema,
    body: EgressCeilingBody,
    get: {
      summary: "(ext) A tenant's egress ceiling: the hosts and ports its sandboxes may ever ask for",
      description: "the ceiling",
      read: (tenantId) => ceilings.get(tenantId),
    },
    put: { summary: "(ext) Set a tenant's egress ceiling", description: "the ceiling now", write: (tenantId, body) => ceilings.set(tenantId, body) },
  });
}
