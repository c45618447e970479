/**
 * WebSocket upgrades. The http server hands every `upgrade` request here; the
 * path is matched against the WebSocket routes, the caller authenticated with
 * the same rules as plain HTTP (api/auth.ts: Bearer or X-Nimbus-Api-Key
 * headers), path and query validated, and the route's `accept` runs its
 * checks. Any failure before the upgrade answers as plain HTTP with the one
 * error envelope, so a client sees the same status and code as for REST.
 */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TenantCaps } from "../domain/tenant-caps.js";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../log.js";
import type { Tenants } from "../domain/tenants.js";
import { ulid } from "../domain/ids.js";
import { authenticate, authorizeTenant, unauthorized, type AdminTokenVerifier, type Principal } from "./auth.js";
import { errorEnvelope, toAppError } from "./errors.js";
import { Router } from "./router.js";
import type { RouteDef } from "./route.js";
import { validate } from "./validate.js";

export interface WsContext<P = Record<string, string>, Q = Record<string, unknown>> {
  req: IncomingMessage;
  requestId: string;
  log: Logger;
  principal: Principal;
  params: P;
  query: Q;
  authorizeTenant(tenantId: string | undefined): string;
}

/** A WebSocket route: `accept` throws to refuse (as HTTP), or returns what to do with the socket. */
export interface WsRouteDef<PS extends TSchema = TSchema, QS extends TSchema = TSchema> {
  path: string;
  params?: PS;
  query?: QS;
  accept(ctx: WsContext<Static<PS>, Static<QS>>): Promise<WsOpen> | WsOpen;
}

/** What an accepted upgrade does: serve a WebSocket, or take the raw socket over (a proxy answers the upgrade itself). */
export type WsOpen = ((ws: WebSocket) => void) | { takeover(socket: Duplex, head: Buffer): void };

export function wsRoute<PS extends TSchema, QS extends TSchema>(def: WsRouteDef<PS, QS>): WsRouteDef {
  return def;
}

export interface UpgradeDeps {
  log: Logger;
  tenants: Tenants;
  adminToken: AdminTokenVerifier;
  /** Largest message a client may send. @default 1 MiB */
  maxPayloadBytes?: number;
  /** Per-tenant cap on open connections (maxWebSockets); the admin token is not capped. */
  caps?: TenantCaps;
}

export interface UpgradeHandler {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Terminates every open WebSocket (server shutdown). */
  close(): void;
}

function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) out[k] = v;
  return out;
}

/** Writes an HTTP error response on a socket that was never upgraded. */
function refuse(socket: Duplex, status: number, body: unknown, headers: Record<string, string>): void {
  const payload = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(payload)}`,
    "connection: close",
  ];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.end(`${lines.join("\r\n")}\r\n\r\n${payload}`);
}

export function createUpgradeHandler(deps: UpgradeDeps, routes: WsRouteDef[]): UpgradeHandler {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes ?? 1024 * 1024, perMessageDeflate: false });
  // The router only matches paths; every WebSocket route is a GET.
  const byDef = new Map<RouteDef, WsRouteDef>();
  const defs: RouteDef[] = routes.map((r) => {
    const def = { method: "GET", path: r.path, access: "tenant", summary: "", tag: "ws", responses: {}, handler: () => undefined } as RouteDef;
    byDef.set(def, r);
    return def;
  });
  const router = new Router(defs);

  async function accept(req: IncomingMessage, requestId: string, log: Logger): Promise<WsOpen> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const { def, params: rawParams } = router.match(req.method ?? "GET", q === -1 ? url : url.slice(0, q));
    const route = byDef.get(def)!;
    const principal = authenticate(req, deps.adminToken, deps.tenants);
    if (!principal) throw unauthorized();
    const params = validate(route.params ?? Type.Object({}), rawParams, "path") as Record<string, string>;
    const query = validate(route.query ?? Type.Object({}), parseQuery(q === -1 ? "" : url.slice(q + 1)), "query") as Record<string, unknown>;
    // The slot is held until the client's socket closes, however the connection ends.
    const release = principal.kind === "tenant" ? deps.caps?.acquire(principal.tenantId, "maxWebSockets") : undefined;
    if (release) req.socket.once("close", release);
    try {
      return await route.accept({ req, requestId, log, principal, params, query, authorizeTenant: (t) => authorizeTenant(principal, deps.tenants, t) });
    } catch (err) {
      release?.();
      throw err;
    }
  }

  return {
    handle(req, socket, head) {
      const requestId = `req_${ulid()}`;
      const log = deps.log.child({ requestId });
      const started = performance.now();
      socket.on("error", () => undefined);
      accept(req, requestId, log).then(
        (open) => {
          if (socket.destroyed) return;
          if (typeof open !== "function") {
            log.info("upgrade taken over", { path: (req.url ?? "").split("?")[0], ms: Math.round(performance.now() - started) });
            return open.takeover(socket, head);
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            log.info("websocket", { path: (req.url ?? "").split("?")[0], status: 101, ms: Math.round(performance.now() - started) });
            open(ws);
          });
        },
        (err) => {
          const appErr = toAppError(err, log);
          log.info("websocket refused", { path: (req.url ?? "").split("?")[0], status: appErr.status, code: appErr.code });
          if (!socket.destroyed) refuse(socket, appErr.status, errorEnvelope(appErr, requestId), { "x-request-id": requestId, ...appErr.headers });
        },
      );
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
