/**
 * (ext) `ANY /api/tenants/{t}/services/{name}/proxy/{path}`: HTTP to the
 * service's current endpoint, so other code depends on the name whichever
 * sandbox backs it. The request streams through unbuffered; the caller's
 * Nimbus credentials and hop-by-hop headers are never forwarded. A service
 * that is not running answers 503 `service.unavailable` with the envelope.
 */
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { Endpoints } from "../../domain/endpoints.js";
import { AppError } from "../../domain/errors.js";
import type { PortSpec } from "../../domain/sandbox-spec.js";
import { specOf, type Services } from "../../domain/services.js";
import { route, type HttpMethod, type RouteDef } from "../route.js";
import { ProxyParams } from "../schemas/service.js";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"];
const CREDENTIALS = ["authorization", "x-nimbus-api-key", "x-nimbus-admin-token"];

/** The port the proxy talks to: one named `http`, else the first `http` port, else the first port. */
export function proxyPort(ports: PortSpec[]): PortSpec | undefined {
  return ports.find((p) => p.name === "http") ?? ports.find((p) => p.protocol === "http") ?? ports[0];
}

function forwardable(headers: IncomingHttpHeaders, drop: readonly string[]): OutgoingHttpHeaders {
  const listed = String(headers.connection ?? "").toLowerCase().split(",").map((s) => s.trim()).filter(Boolean);
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

export function serviceProxyRoutes(services: Services, endpoints: Endpoints): RouteDef[] {
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
      responses: { 200: { description: "whatever the service answers" }, 503: { description: "the service is not running" } },
      handler: (ctx) => {
        const { name } = ctx.params;
        const svc = services.get(ctx.tenantId, name);
        const spec = specOf(svc);
        if (spec.backend.kind !== "sandbox") throw unavailable(name, `has a ${spec.backend.kind} backend, which Nimbus does not run`, { state: svc.state });
        const port = proxyPort(spec.backend.sandbox.ports ?? []);
        if (!port) throw unavailable(name, "declares no ports: add one to spec.backend.sandbox.ports to reach it", { state: svc.state });
        if (svc.state !== "running" || svc.sandboxId === null) throw unavailable(name, `is ${svc.state}, not running: start it (or wait until it is ready) and retry`, { state: svc.state });
        const agent = endpoints.agent(svc.sandboxId, port.port);
        if (!agent) throw unavailable(name, "has no published endpoint yet: retry in a moment", { state: svc.state, sandboxId: svc.sandboxId });
        const url = ctx.req.url ?? "";
        const q = url.indexOf("?");
        const path = `/${ctx.params.path}${q === -1 ? "" : url.slice(q)}`;
        const headers = forwardable(ctx.req.headers, CREDENTIALS);
        headers["x-forwarded-for"] = ctx.req.socket.remoteAddress ?? "";
        headers["x-forwarded-host"] = ctx.req.headers.host ?? "";
        headers["x-forwarded-prefix"] = `/api/tenants/${ctx.tenantId}/services/${name}/proxy`;
        return new Promise<void>((resolve, reject) => {
          const upstream = request({ agent, host: "127.0.0.1", port: port.port, method: ctx.req.method, path, headers });
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
              reject(unavailable(name, `did not answer (${err.message}): it may be restarting; retry`, { sandboxId: svc.sandboxId }));
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
