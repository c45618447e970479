/**
 * (ext) The tenant's lifecycle event stream, NDJSON: one line per change,
 * `{"type","action","resource"}`, plus heartbeats. Filters by kind and by
 * sandbox/session id or service name, so a waiter sees only its resource.
 */
import type { EventBus } from "../../domain/events.js";
import { openNdjson } from "../ndjson.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams } from "../schemas/common.js";
import { EventLineSchema } from "../schemas/event.js";
import { EventsQuery } from "../schemas/sandbox.js";

export function eventRoutes(events: EventBus): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/events",
      access: "tenant",
      tag: "events",
      summary: "(ext) Stream lifecycle changes as NDJSON {type, action, resource} lines",
      params: TenantParams,
      query: EventsQuery,
      responses: { 200: { description: "an endless NDJSON stream", contentType: "application/x-ndjson", schema: EventLineSchema } },
      handler: (ctx) => {
        const { kind, id, name } = ctx.query;
        const stream = openNdjson(ctx.req, ctx.res, ctx.requestId);
        ctx.handled = true;
        const unsubscribe = events.subscribe(ctx.tenantId, (e) => {
          if (kind && e.type !== kind) return;
          if (id !== undefined && (e.type === "service" || e.key !== id)) return;
          if (name !== undefined && (e.type !== "service" || e.key !== name)) return;
          stream.write({ type: e.type, action: e.action, resource: e.resource });
        });
        stream.onClose(unsubscribe);
      },
    }),
  ];
}
