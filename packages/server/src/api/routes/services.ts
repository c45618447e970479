/**
 * Service routes (contract §6): definitions (create, update, delete with
 * generation preconditions), the runtime view and list, and start / stop /
 * restart. The HTTP proxy to a service's endpoint is in service-proxy.ts.
 */
import { invalidInput } from "../../domain/errors.js";
import type { Services } from "../../domain/services.js";
import { clampLimit, collection } from "../collection.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams, collectionOf } from "../schemas/common.js";
import {
  DeleteServiceQuery,
  ListServicesQuery,
  ServiceBody,
  ServiceDefinitionResource,
  RestartReceiptResource,
  RestartServiceBody,
  ServiceParams,
  ServiceViewResource,
  StopServiceBody,
} from "../schemas/service.js";
import { checkServiceBody } from "../../domain/service-rules.js";

export function serviceRoutes(services: Services): RouteDef[] {
  const base = "/api/tenants/:tenantId/services";
  const control = (action: "stop", summary: string) =>
    route({
      method: "POST",
      path: `${base}/:name/${action}`,
      access: "tenant",
      tag: "services",
      summary,
      params: ServiceParams,
      body: StopServiceBody,
      responses: { 200: { description: "the runtime view", schema: ServiceViewResource } },
      handler: async (ctx) => ({ status: 200, body: services.view(await services[action](ctx.tenantId, ctx.params.name, ctx.body.gracePeriodMs)) }),
    });
  return [
    route({
      method: "POST",
      path: base,
      access: "tenant",
      tag: "services",
      summary: "Create a service definition (generation 1); it does not start until asked",
      params: TenantParams,
      body: ServiceBody,
      responses: { 201: { description: "the definition", schema: ServiceDefinitionResource } },
      handler: (ctx) => {
        const spec = checkServiceBody(ctx.body, ctx.tenantId);
        const { name, labels } = ctx.body.metadata;
        return { status: 201, body: services.definition(services.create(ctx.tenantId, { name, ...(labels ? { labels } : {}), spec })) };
      },
    }),
    route({
      method: "GET",
      path: base,
      access: "tenant",
      tag: "services",
      summary: "List services (runtime views), sorted by name",
      params: TenantParams,
      query: ListServicesQuery,
      responses: { 200: { description: "a page of runtime views", schema: collectionOf(ServiceViewResource) } },
      handler: (ctx) => {
        const limit = clampLimit(ctx.query.limit);
        const page = services.list(ctx.tenantId, { limit, ...(ctx.query.pageToken !== undefined ? { pageToken: ctx.query.pageToken } : {}) });
        return {
          status: 200,
          body: collection(
            ctx.tenantId,
            services.resourceVersion(),
            limit,
            page.items.map((r) => services.view(r)),
            page.items.at(-1)?.name,
            page.remaining,
          ),
        };
      },
    }),
    route({
      method: "GET",
      path: `${base}/:name`,
      access: "tenant",
      tag: "services",
      summary: "The runtime view: state, readiness, health, sandboxId, endpoints, restartCount",
      params: ServiceParams,
      responses: { 200: { description: "the runtime view", schema: ServiceViewResource } },
      handler: (ctx) => ({ status: 200, body: services.view(services.get(ctx.tenantId, ctx.params.name)) }),
    }),
    route({
      method: "PUT",
      path: `${base}/:name`,
      access: "tenant",
      tag: "services",
      summary: "Replace a stopped service's definition; metadata.generation must be the current one",
      params: ServiceParams,
      body: ServiceBody,
      responses: { 200: { description: "the definition", schema: ServiceDefinitionResource } },
      handler: async (ctx) => {
        const { name, generation, labels } = ctx.body.metadata;
        if (name !== ctx.params.name)
          throw invalidInput(`metadata.name \`${name}\` does not match the service in the path \`${ctx.params.name}\``, { field: "metadata.name" });
        if (generation === undefined)
          throw invalidInput("missing required field `metadata.generation` in body: send the generation you read, so a concurrent change is not overwritten", {
            field: "metadata.generation",
          });
        const spec = checkServiceBody(ctx.body, ctx.tenantId);
        const row = await services.update(ctx.tenantId, { name, generation, ...(labels ? { labels } : {}), spec });
        return { status: 200, body: services.definition(row) };
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:name`,
      access: "tenant",
      tag: "services",
      summary: "Delete a definition; with open sessions or a running sandbox only with force=true (closes them, stops and deletes the sandbox)",
      params: ServiceParams,
      query: DeleteServiceQuery,
      responses: { 204: { description: "deleted" } },
      handler: async (ctx) => {
        const force = ctx.query.force === "true" || ctx.query.force === "1";
        await services.delete(ctx.tenantId, ctx.params.name, ctx.query.ifMatchGeneration, force);
      },
    }),
    route({
      method: "POST",
      path: `${base}/:name/start`,
      access: "tenant",
      tag: "services",
      summary: "Launch the service's sandbox; answers at once (starting), watch or poll for ready",
      params: ServiceParams,
      responses: { 200: { description: "the runtime view", schema: ServiceViewResource } },
      handler: async (ctx) => ({ status: 200, body: services.view(await services.start(ctx.tenantId, ctx.params.name)) }),
    }),
    control("stop", "Stop the service's sandbox; answers once it is stopped. The definition stays"),
    route({
      method: "POST",
      path: `${base}/:name/restart`,
      access: "tenant",
      tag: "services",
      summary:
        "Replace the service's sandbox with a fresh one; answers once the new one is launching. With sourceGeneration/requestId: 202 and a receipt, 412 on a stale generation, the same receipt for a repeated requestId",
      params: ServiceParams,
      body: RestartServiceBody,
      responses: {
        200: { description: "the runtime view (empty body)", schema: ServiceViewResource },
        202: { description: "the restart's receipt", schema: RestartReceiptResource },
      },
      handler: async (ctx) => {
        const { gracePeriodMs, sourceGeneration, requestId } = ctx.body;
        if (sourceGeneration === undefined && requestId === undefined) {
          return { status: 200, body: services.view(await services.restart(ctx.tenantId, ctx.params.name, gracePeriodMs)) };
        }
        const input = {
          ...(gracePeriodMs !== undefined ? { gracePeriodMs } : {}),
          ...(sourceGeneration !== undefined ? { sourceGeneration } : {}),
          ...(requestId !== undefined ? { requestId } : {}),
        };
        return { status: 202, body: await services.requestRestart(ctx.tenantId, ctx.params.name, input) };
      },
    }),
  ];
}
