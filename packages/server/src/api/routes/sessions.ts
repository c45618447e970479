/**
 * Session routes (contract §5): open, list, get, close, renew (ext). They
 * live outside `/api/tenants/{t}`: the tenant comes from the body or query,
 * or from the API key when omitted. Another tenant's session is not found.
 */
import type { Sessions } from "../../domain/sessions.js";
import { sessionView } from "../../domain/sessions.js";
import { invalidInput } from "../../domain/errors.js";
import { route, type RouteDef } from "../route.js";
import { collection, clampLimit } from "../collection.js";
import { collectionOf } from "../schemas/common.js";
import { CloseSessionBody, ListSessionsQuery, OpenSessionBody, RenewSessionBody, SessionParams, SessionResource, TenantQuery } from "../schemas/session.js";

export function sessionRoutes(sessions: Sessions): RouteDef[] {
  return [
    route({
      method: "POST",
      path: "/api/sessions",
      access: "tenant",
      tag: "sessions",
      summary: "Open a lease on a ready sandbox or service; it expires on its own at expiresAt",
      body: OpenSessionBody,
      responses: { 201: { description: "opened", schema: SessionResource } },
      handler: (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.body.tenantId);
        const { target, channels, requestedTtlMs } = ctx.body;
        return { status: 201, body: sessionView(sessions.open(tenantId, { target, channels, requestedTtlMs })) };
      },
    }),
    route({
      method: "GET",
      path: "/api/sessions",
      access: "tenant",
      tag: "sessions",
      summary: "List sessions, sorted by id",
      query: ListSessionsQuery,
      responses: { 200: { description: "a page of sessions", schema: collectionOf(SessionResource) } },
      handler: (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.query.tenantId);
        const limit = clampLimit(ctx.query.limit);
        const { state, status } = ctx.query;
        if (state !== undefined && status !== undefined && state !== status) {
          throw invalidInput(`state \`${state}\` and its alias status \`${status}\` disagree: send one of them`, { field: "state", location: "query" });
        }
        const page = sessions.list(tenantId, { limit, pageToken: ctx.query.pageToken, status: state ?? status });
        return {
          status: 200,
          body: collection(tenantId, sessions.resourceVersion(), limit, page.items.map(sessionView), page.items.at(-1)?.id, page.remaining),
        };
      },
    }),
    route({
      method: "GET",
      path: "/api/sessions/:id",
      access: "tenant",
      tag: "sessions",
      summary: "Get a session",
      params: SessionParams,
      query: TenantQuery,
      responses: { 200: { description: "the session", schema: SessionResource } },
      handler: (ctx) => ({ status: 200, body: sessionView(sessions.get(ctx.authorizeTenant(ctx.query.tenantId), ctx.params.id)) }),
    }),
    route({
      method: "POST",
      path: "/api/sessions/:id/close",
      access: "tenant",
      tag: "sessions",
      summary: "Close a lease (the target keeps running); closing a closed or expired session returns it unchanged",
      params: SessionParams,
      query: TenantQuery,
      body: CloseSessionBody,
      responses: { 200: { description: "the closed session", schema: SessionResource } },
      handler: (ctx) => ({ status: 200, body: sessionView(sessions.close(ctx.authorizeTenant(ctx.query.tenantId), ctx.params.id, ctx.body.reason)) }),
    }),
    route({
      method: "POST",
      path: "/api/sessions/:id/renew",
      access: "tenant",
      tag: "sessions",
      summary: "(ext) Move an open lease's deadline to now + requestedTtlMs, never past one hour from now",
      params: SessionParams,
      body: RenewSessionBody,
      responses: { 200: { description: "the renewed session", schema: SessionResource } },
      handler: (ctx) => ({ status: 200, body: sessionView(sessions.renew(ctx.authorizeTenant(ctx.body.tenantId), ctx.params.id, ctx.body.requestedTtlMs)) }),
    }),
  ];
}
