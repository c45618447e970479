/**
 * (ext) A sandbox's egress decision log (issue 17): `GET
 * /api/tenants/{t}/sandboxes/{id}/egress`, oldest first, filtered by
 * decision, host (name or address) and time, paged by the last row's `seq`.
 */
import { Type } from "@sinclair/typebox";
import type { SandboxEgress } from "../../domain/sandbox-egress.js";
import type { Sandboxes } from "../../domain/sandboxes.js";
import { invalidInput } from "../../domain/errors.js";
import { collection, clampLimit } from "../collection.js";
import { route, type RouteDef } from "../route.js";
import { PageQuery, collectionOf, strictObject } from "../schemas/common.js";
import { EgressLogEntrySchema as EgressLogEntry, EgressRulesSchema, SandboxParams, SandboxResource } from "../schemas/sandbox.js";
import { sandboxView } from "../../domain/sandbox-view.js";

const EgressLogQuery = strictObject({
  ...PageQuery,
  decision: Type.Optional(Type.Union([Type.Literal("allowed"), Type.Literal("denied")])),
  host: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "rows whose name or address is exactly this" })),
  since: Type.Optional(Type.String({ format: "date-time", description: "inclusive" })),
  until: Type.Optional(Type.String({ format: "date-time", description: "inclusive" })),
});

function isoTime(field: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidInput(`${field} must be an ISO 8601 time, got \`${v.slice(0, 40)}\``, { field });
  return new Date(t).toISOString();
}

const PatchNetworkBody = strictObject({
  resourceVersion: Type.String({ minLength: 1, maxLength: 64, description: "the sandbox's metadata.resourceVersion as last read; 412 when it moved on" }),
  egress: EgressRulesSchema,
});

export function sandboxEgressRoutes(
  sandboxes: Pick<Sandboxes, "get" | "resourceVersion" | "updateNetwork">,
  egress: Pick<SandboxEgress, "logPage">,
): RouteDef[] {
  return [
    route({
      method: "PATCH",
      path: "/api/tenants/:tenantId/sandboxes/:id/network",
      access: "tenant",
      tag: "sandboxes",
      summary: "(ext) Replace a running sandbox's egress rules: new connections follow them at once, open ones they refuse are closed",
      params: SandboxParams,
      body: PatchNetworkBody,
      responses: { 200: { description: "the sandbox at its new generation", schema: SandboxResource } },
      handler: async (ctx) => {
        const { row } = await sandboxes.updateNetwork(ctx.tenantId, ctx.params.id, { egress: ctx.body.egress, resourceVersion: ctx.body.resourceVersion });
        return { status: 200, body: sandboxView(row) };
      },
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/egress",
      access: "tenant",
      tag: "sandboxes",
      summary: "(ext) The sandbox's egress decision log: every connection attempt and DNS query, oldest first",
      params: SandboxParams,
      query: EgressLogQuery,
      responses: { 200: { description: "a page of decisions", schema: collectionOf(EgressLogEntry) } },
      handler: (ctx) => {
        const q = ctx.query;
        sandboxes.get(ctx.tenantId, ctx.params.id);
        let after: number | undefined;
        if (q.pageToken !== undefined) {
          if (!/^\d{1,15}$/.test(q.pageToken)) throw invalidInput("pageToken is not one this route gave out", { field: "pageToken" });
          after = Number(q.pageToken);
        }
        const limit = clampLimit(q.limit);
        const page = egress.logPage(ctx.tenantId, ctx.params.id, {
          limit,
          after,
          decision: q.decision,
          host: q.host?.toLowerCase(),
          since: isoTime("since", q.since),
          until: isoTime("until", q.until),
        });
        const lastSeq = page.rows.at(-1)?.seq;
        const items = page.rows.map(({ tenantId: _t, sandboxId: _s, ...row }) => row);
        return {
          status: 200,
          body: collection(ctx.tenantId, sandboxes.resourceVersion(), limit, items, lastSeq === undefined ? undefined : String(lastSeq), page.remaining),
        };
      },
    }),
  ];
}
