/**
 * The HTTP application, built separately from listening so tests can drive it
 * in-process and `nimbus start` only composes. Every request gets a request
 * id, passes authentication, then schema validation of path, query and body,
 * and every failure leaves through api/errors.ts as the one envelope.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Type } from "@sinclair/typebox";
import type { Logger } from "../log.js";
import type { Tenants } from "../domain/tenants.js";
import { invalidInput } from "../domain/errors.js";
import { ulid } from "../domain/ids.js";
import { authenticate, authorizeTenant, requireAdmin, unauthorized, type AdminTokenVerifier } from "./auth.js";
import { readJsonBody } from "./body.js";
import { sendError, sendJson } from "./errors.js";
import type { RequestContext, RouteDef } from "./route.js";
import { Router } from "./router.js";
import { validate } from "./validate.js";

export interface AppDeps {
  log: Logger;
  tenants: Tenants;
  adminToken: AdminTokenVerifier;
}

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
  readonly routes: RouteDef[];
}

const EMPTY_OBJECT = Type.Object({}, { additionalProperties: false });

function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    if (k in out) throw invalidInput(`query parameter \`${k}\` is given more than once`, { field: k, location: "query" });
    out[k] = v;
  }
  return out;
}

/**
 * A request rejected before its body was read still has bytes in flight;
 * closing the socket on them would reset the connection before the client
 * reads our error. Drain a bounded amount, then give up on the connection.
 */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;
function drainUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  if (!res.headersSent) res.setHeader("connection", "close");
  let drained = 0;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
  });
  req.resume();
}

export function createApp(deps: AppDeps, routes: RouteDef[]): App {
  const router = new Router(routes);

  async function dispatch(req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const { def, params: rawParams } = router.match(req.method ?? "GET", path);
    const principal = def.access === "public" ? undefined : authenticate(req, deps.adminToken, deps.tenants);
    if (def.access === "admin") requireAdmin(principal);
    else if (def.access !== "public" && !principal) throw unauthorized();

    const params = validate(def.params ?? Type.Object({}), rawParams, "path") as Record<string, string>;
    let tenantId = "";
    if (def.access === "tenant" && typeof params.tenantId === "string") {
      tenantId = authorizeTenant(principal, deps.tenants, params.tenantId);
    }
    const query = def.rawQuery ? {} : validate(def.query ?? EMPTY_OBJECT, parseQuery(q === -1 ? "" : url.slice(q + 1)), "query");
    let body: unknown;
    if (!def.rawBody) {
      const raw = await readJsonBody(req);
      // Body-less routes accept nothing or `{}` (clients often send an empty object).
      body = validate(def.body ?? EMPTY_OBJECT, raw ?? {}, "body");
    }
    const ctx: RequestContext = {
      req,
      res,
      requestId,
      log,
      principal,
      params,
      query: query as Record<string, unknown>,
      body,
      tenantId,
      authorizeTenant: (t) => authorizeTenant(principal, deps.tenants, t),
      handled: false,
    };
    const reply = await def.handler(ctx as never);
    if (ctx.handled || res.headersSent) return;
    if (!reply) return sendJson(res, 204, undefined, { "x-request-id": requestId });
    sendJson(res, reply.status, reply.body, { "x-request-id": requestId, ...reply.headers });
  }

  return {
    routes,
    handle(req, res) {
      const requestId = `req_${ulid()}`;
      const started = performance.now();
      const log = deps.log.child({ requestId });
      res.setHeader("x-request-id", requestId);
      dispatch(req, res, requestId, log)
        .catch((err) => {
          drainUnread(req, res);
          const appErr = sendError(res, err, requestId, log);
          if (appErr.status >= 500) log.warn("request failed", { code: appErr.code });
        })
        .finally(() => {
          const fields = { method: req.method, path: (req.url ?? "").split("?")[0], status: res.statusCode, ms: Math.round(performance.now() - started) };
          if (fields.path === "/health") log.debug("request", fields);
          else log.info("request", fields);
        });
    },
  };
}
