/**
 * Sandbox routes (contract §4): create, list, get, stop, delete (ext), and
 * the main process's logs (ext). Every route is tenant-scoped; another
 * tenant's id is simply not found.
 */
import { invalidInput } from "../../domain/errors.js";
import { checkSandboxSpec } from "../../domain/sandbox-rules.js";
import { assertLabels, isValidLabelKey } from "../../domain/labels.js";
import type { LogRecord, Sandboxes } from "../../domain/sandboxes.js";
import type { SandboxSpec } from "../../domain/sandbox-spec.js";
import { TERMINAL_STATES } from "../../domain/sandbox-state.js";
import { sandboxView } from "../../domain/sandbox-view.js";
import { NDJSON_CONTENT_TYPE, openNdjson } from "../ndjson.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams, collectionOf } from "../schemas/common.js";
import { collection, clampLimit } from "../collection.js";
import {
  CreateSandboxBody,
  DeleteSandboxQuery,
  ExtendSandboxBody,
  ListSandboxesQuery,
  LogsQuery,
  SandboxParams,
  SandboxResource,
  StopSandboxBody,
} from "../schemas/sandbox.js";
import type { SandboxLifetimes } from "../../domain/sandbox-lifetimes.js";

/** A log record as the logs route sends it: the payload as text, with the newline of a full line. */
function wireRecord(r: LogRecord): { time: string; stream: string; data: string } {
  return { time: r.time, stream: r.stream, data: r.data.toString("utf8") };
}

export function sandboxRoutes(sandboxes: Sandboxes, lifetimes: Pick<SandboxLifetimes, "extend">): RouteDef[] {
  return [
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes",
      access: "tenant",
      tag: "sandboxes",
      summary: "Create a sandbox; answers at once (pending), pull and start continue in the background",
      params: TenantParams,
      body: CreateSandboxBody,
      responses: { 201: { description: "created", schema: SandboxResource } },
      handler: async (ctx) => {
        const spec = ctx.body.spec as SandboxSpec;
        checkSandboxSpec(spec, "standalone");
        if (ctx.body.labels) assertLabels(ctx.body.labels);
        const row = await sandboxes.create(ctx.tenantId, { profile: ctx.body.profile, spec, labels: ctx.body.labels });
        return { status: 201, body: sandboxView(row) };
      },
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes",
      access: "tenant",
      tag: "sandboxes",
      summary: "List sandboxes, sorted by id",
      params: TenantParams,
      query: ListSandboxesQuery,
      responses: { 200: { description: "a page of sandboxes", schema: collectionOf(SandboxResource) } },
      handler: (ctx) => {
        const q = ctx.query;
        if (q.labelValue !== undefined && q.labelKey === undefined) throw invalidInput("labelValue needs labelKey", { field: "labelValue" });
        if (q.labelKey !== undefined && !isValidLabelKey(q.labelKey))
          throw invalidInput(`labelKey \`${q.labelKey.slice(0, 80)}\` is not a valid label key`, { field: "labelKey" });
        const limit = clampLimit(q.limit);
        const page = sandboxes.list(ctx.tenantId, { limit, pageToken: q.pageToken, status: q.status, labelKey: q.labelKey, labelValue: q.labelValue });
        return {
          status: 200,
          body: collection(ctx.tenantId, sandboxes.resourceVersion(), limit, page.items.map(sandboxView), page.items.at(-1)?.id, page.remaining),
        };
      },
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id",
      access: "tenant",
      tag: "sandboxes",
      summary: "Get a sandbox",
      params: SandboxParams,
      responses: { 200: { description: "the sandbox", schema: SandboxResource } },
      handler: (ctx) => ({ status: 200, body: sandboxView(sandboxes.get(ctx.tenantId, ctx.params.id)) }),
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/stop",
      access: "tenant",
      tag: "sandboxes",
      summary: "Stop a sandbox: SIGTERM, grace period, SIGKILL. Idempotent; answers once it is stopped",
      params: SandboxParams,
      body: StopSandboxBody,
      responses: { 200: { description: "the stopped sandbox", schema: SandboxResource } },
      handler: async (ctx) => ({ status: 200, body: sandboxView(await sandboxes.stop(ctx.tenantId, ctx.params.id, ctx.body.gracePeriodMs)) }),
    }),
    route({
      method: "DELETE",
      path: "/api/tenants/:tenantId/sandboxes/:id",
      access: "tenant",
      tag: "sandboxes",
      summary: "(ext) Delete a sandbox from any state, stopping it first; removes everything it had on the host",
      params: SandboxParams,
      query: DeleteSandboxQuery,
      responses: { 204: { description: "deleted" } },
      handler: async (ctx) => {
        await sandboxes.delete(ctx.tenantId, ctx.params.id, ctx.query.gracePeriodMs);
      },
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/extend",
      access: "tenant",
      tag: "sandboxes",
      summary: "(ext) Move a running sandbox's TTL deadline: addSeconds past it, or a new expiresAt (at most 7 days ahead)",
      params: SandboxParams,
      body: ExtendSandboxBody,
      responses: { 200: { description: "the sandbox with its new status.expiresAt", schema: SandboxResource } },
      handler: (ctx) => {
        const { addSeconds, expiresAt } = ctx.body;
        if ((addSeconds === undefined) === (expiresAt === undefined)) throw invalidInput("give one of addSeconds or expiresAt", { field: "addSeconds" });
        const row = lifetimes.extend(ctx.tenantId, ctx.params.id, addSeconds !== undefined ? { addSeconds } : { expiresAt: expiresAt! });
        return { status: 200, body: sandboxView(row) };
      },
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/logs",
      access: "tenant",
      tag: "sandboxes",
      summary: "(ext) The main process's stdout/stderr: text, or NDJSON lines {stream,data,time} with follow=1",
      params: SandboxParams,
      query: LogsQuery,
      responses: { 200: { description: "the log: text, or NDJSON {stream,data,time} lines", contentType: "text/plain" } },
      handler: async (ctx) => {
        const { tenantId } = ctx;
        const id = ctx.params.id;
        const row = sandboxes.get(tenantId, id);
        const follow = ctx.query.follow === "1" || ctx.query.follow === "true";
        const wantsNdjson = follow || (ctx.req.headers.accept ?? "").includes("application/x-ndjson");
        if (!follow) {
          let records = (await sandboxes.readWholeLog(row)).map(wireRecord);
          if (ctx.query.tail !== undefined) records = records.slice(Math.max(0, records.length - ctx.query.tail));
          ctx.handled = true;
          if (wantsNdjson) {
            ctx.res.writeHead(200, { "content-type": NDJSON_CONTENT_TYPE, "x-request-id": ctx.requestId });
            ctx.res.end(records.map((r) => JSON.stringify(r) + "\n").join(""));
          } else {
            ctx.res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "x-request-id": ctx.requestId });
            ctx.res.end(records.map((r) => r.data).join(""));
          }
          return;
        }
        const stream = openNdjson(ctx.req, ctx.res, ctx.requestId);
        ctx.handled = true;
        let offset = 0;
        let first = true;
        while (!stream.closed) {
          const current = sandboxes.find(tenantId, id);
          if (!current) break;
          const r = await sandboxes.readLog(current, offset);
          let records = r.records.map(wireRecord);
          if (first && ctx.query.tail !== undefined) records = records.slice(Math.max(0, records.length - ctx.query.tail));
          first = false;
          for (const rec of records) stream.write(rec);
          const moved = r.offset !== offset;
          offset = r.offset;
          if (!moved && TERMINAL_STATES.includes(current.lifecycleState)) break;
          if (!moved) await new Promise((res) => setTimeout(res, 200));
        }
        stream.end();
      },
    }),
  ];
}
