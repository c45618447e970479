/**
 * (ext) `ANY /api/tenants/{t}/services/{name}/proxy/{path}`: HTTP to the
 * service's current endpoint, so other code depends on the name whichever
 * sandbox backs it. The request streams through unbuffered; the caller's
 * Nimbus credentials and hop-by-hop headers are never forwarded. A service
 * that is not running answers 503 `service.unavailable` with the envelope.
 * Upgrades (WebSocket or any other protocol) are passed through raw: the
 * service answers the handshake and the two sockets are spliced.
 */
import { NO_ACTIVITY, type SandboxActivity } from "../../domain/sandbox-activity.js";
import { request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import type { Endpoints } from "../../domain/endpoints.js";
import { Type } from "@sinclair/typebox";
import { AppError } from "../../domain/errors.js";
import type { PortSpec } from "../../domain/sandbox-spec.js";
import { specOf, type Services } from "../../domain/services.js";
import { route, type HttpMethod, type RouteDef } from "../route.js";
import { ProxyParams } from "../schemas/service.js";
import { wsRoute, type WsOpen, type WsRouteDef } from "../ws.js";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"];
const CREDENTIALS = ["authorization", "x-nimbus-api-key", "x-nimbus-admin-token"];

/** The port the proxy talks to: one named `http`, else the first `http` port, else the first port. */
export function proxyPort(ports: PortSpec[]): PortSpec | undefined {
  return ports.find((p) => p.name === "http") ?? ports.find((p) => p.protocol === "http") ?? ports[0];
}

function forwardable(headers: IncomingHttpHeaders, drop: readonly string[]): OutgoingHttpHeaders {
  const listed = String(headers.connection ?? "")
    .toLowerCase()
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || drop.includes(k) || HOP_BY_HOP.includes(k) || listed.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

function unavailable(name: string, why: string, detail: Record<string, unknown>): AppError {
  return new AppError("service.unavailable", `service \`${name}\` ${why}`, { detail: { name, ...detail } });
}

interface ProxyTarget {
  agent: Agent;
  port: number;
  sandboxId: string;
  /** The request line's target: the tail of the route plus the original query. */
  path: string;
  headers: OutgoingHttpHeaders;
}

/** Where a proxied request goes now; 404 for an unknown service, 503 while it cannot answer. */
/** A request to the service's port through its forwarder (the agent connects into the sandbox). */
function requestTarget(target: ProxyTarget, method: string | undefined) {
  return request({ agent: target.agent, host: "127.0.0.1", port: target.port, method, path: target.path, headers: target.headers });
}

function resolveTarget(
  services: Services,
  endpoints: Endpoints,
  tenantId: string,
  name: string,
  tail: string,
  req: IncomingMessage,
  activity: SandboxActivity,
): ProxyTarget {
  const svc = services.get(tenantId, name);
  const spec = specOf(svc);
  if (spec.backend.kind !== "sandbox") throw unavailable(name, `has a ${spec.backend.kind} backend, which Nimbus does not run`, { state: svc.state });
  const port = proxyPort(spec.backend.sandbox.ports ?? []);
  if (!port) throw unavailable(name, "declares no ports: add one to spec.backend.sandbox.ports to reach it", { state: svc.state });
  if (svc.state !== "running" || svc.sandboxId === null)
    throw unavailable(name, `is ${svc.state}, not running: start it (or wait until it is ready) and retry`, { state: svc.state });
  const agent = endpoints.agent(svc.sandboxId, port.port);
  if (!agent) throw unavailable(name, "has no published endpoint yet: retry in a moment", { state: svc.state, sandboxId: svc.sandboxId });
  // Proxy traffic is use: it keeps the service's sandbox from its idle timeout.
  activity.touch(tenantId, svc.sandboxId);
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const headers = forwardable(req.headers, CREDENTIALS);
  headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-prefix"] = `/api/tenants/${tenantId}/services/${name}/proxy`;
  return { agent, port: port.port, sandboxId: svc.sandboxId, path: `/${tail}${q === -1 ? "" : url.slice(q)}`, headers };
}

/**
 * An HTTP response head as raw bytes, for a socket that was never an
 * http.ServerResponse. With `closeDelimited` the body that follows is sent
 * decoded and ends with the connection, so length and chunking headers go.
 */
function rawHead(res: IncomingMessage, closeDelimited: boolean): string {
  const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ""}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const k = res.rawHeaders[i]!;
    if (closeDelimited && ["content-length", "transfer-encoding", "connection", "keep-alive"].includes(k.toLowerCase())) continue;
    lines.push(`${k}: ${res.rawHeaders[i + 1]}`);
  }
  if (closeDelimited) lines.push("connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function splice(a: Duplex, b: Duplex): void {
  const drop = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", drop).on("close", drop);
  b.on("error", drop).on("close", drop);
  a.pipe(b);
  b.pipe(a);
}

/** The upgrade flavour of the proxy route: the service answers the handshake, then bytes flow both ways. */
export function serviceProxyWsRoutes(services: Services, endpoints: Endpoints, activity: SandboxActivity = NO_ACTIVITY): WsRouteDef[] {
  return [
    wsRoute({
      path: "/api/tenants/:tenantId/services/:name/proxy/*path",
      params: ProxyParams,
      query: Type.Record(Type.String(), Type.String()),
      accept: (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.params.tenantId);
        const { name } = ctx.params;
        const target = resolveTarget(services, endpoints, tenantId, name, ctx.params.path, ctx.req, activity);
        target.headers.connection = "Upgrade";
        target.headers.upgrade = ctx.req.headers.upgrade ?? "websocket";
        return new Promise<WsOpen>((resolve, reject) => {
          const upstream = requestTarget(target, ctx.req.method);
          upstream.on("upgrade", (res, upSocket, upHead) => {
            resolve({
              takeover(socket, head) {
                socket.write(rawHead(res, false));
                if (upHead.length) socket.write(upHead);
                if (head.length) upSocket.write(head);
                const touch = () => activity.touch(tenantId, target.sandboxId);
                socket.on("data", touch);
                upSocket.on("data", touch);
                splice(socket, upSocket);
              },
            });
          });
          // The service declined the upgrade: its answer goes back as it is.
          upstream.on("response", (res) => {
            resolve({
              takeover(socket) {
                socket.write(rawHead(res, true));
                res.pipe(socket);
              },
            });
          });
          upstream.on("error", (err) =>
            reject(unavailable(name, `did not answer the upgrade (${err.message}): it may be restarting; retry`, { sandboxId: target.sandboxId })),
          );
          upstream.end();
        });
      },
    }),
  ];
}

export function serviceProxyRoutes(services: Services, endpoints: Endpoints, activity: SandboxActivity = NO_ACTIVITY): RouteDef[] {
  const methods: HttpMethod[] = ["GET", "POST", "PUT", "DELETE", "PATCH"];
  return methods.map((method) =>
    route({
      method,
      path: "/api/tenants/:tenantId/services/:name/proxy/*path",
      access: "tenant",
      tag: "services",
      summary: "(ext) Forward HTTP to the service's current endpoint; 503 while it is not running",
      params: ProxyParams,
      rawBody: true,
      rawQuery: true,
      responses: {
        200: { description: "whatever the service answers", contentType: "application/octet-stream" },
        503: { description: "the service is not running" },
      },
      handler: (ctx) => {
        const { name } = ctx.params;
        const target = resolveTarget(services, endpoints, ctx.tenantId, name, ctx.params.path, ctx.req, activity);
        return new Promise<void>((resolve, reject) => {
          const upstream = requestTarget(target, ctx.req.method);
          upstream.on("response", (res) => {
            ctx.handled = true;
            ctx.res.writeHead(res.statusCode ?? 502, { ...forwardable(res.headers, []), "x-request-id": ctx.requestId });
            res.pipe(ctx.res);
            res.on("end", () => resolve());
            res.on("error", () => {
              ctx.res.destroy();
              resolve();
            });
          });
          upstream.on("error", (err) => {
            if (ctx.res.headersSent) {
              ctx.res.destroy();
              resolve();
            } else {
              reject(unavailable(name, `did not answer (${err.message}): it may be restarting; retry`, { sandboxId: target.sandboxId }));
            }
          });
          ctx.res.on("close", () => {
            if (!ctx.res.writableFinished) upstream.destroy();
          });
          ctx.req.pipe(upstream);
        });
      },
    }),
  );
}
