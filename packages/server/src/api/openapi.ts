/**
 * /openapi.json, generated from the same route list and schemas that
 * validate requests, so the document cannot drift from the server. Every
 * operation gets an operationId, a summary, its tag, the success bodies the
 * route declares and the error envelope for each error status the edge can
 * answer, so a client generated from it compiles under `--strict`
 * (`api/openapi-contract.test.ts` lints it and compiles one).
 */
import type { TSchema } from "@sinclair/typebox";
import type { ResponseDef, RouteDef } from "./route.js";
import { ErrorEnvelopeSchema } from "./schemas/common.js";

function plain(schema: TSchema): unknown {
  // TypeBox schemas are JSON Schema plus symbol-keyed metadata; JSON drops the symbols.
  return JSON.parse(JSON.stringify(schema));
}

function parameters(schema: TSchema | undefined, where: "path" | "query"): unknown[] {
  const props = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
  const required = new Set((schema as { required?: string[] } | undefined)?.required ?? []);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === "path" || required.has(name), schema: plain(s) }));
}

const pascal = (s: string) => s.replace(/(^|[-_.])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

/** `POST /api/tenants/:tenantId/sandboxes/:id/stop` → `postTenantsByTenantIdSandboxesByIdStop`: stable and unique per method and path. */
export function deriveOperationId(method: string, path: string): string {
  const parts = path
    .split("/")
    .filter((p) => p !== "" && p !== "api")
    .map((p) => (p.startsWith(":") || p.startsWith("*") ? `By${pascal(p.slice(1))}` : pascal(p.replace(/\.json$/, "Json"))));
  return method.toLowerCase() + parts.join("");
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  system: "Health, the contract itself and the admin token.",
  tenants: "Tenants and their API keys (admin only).",
  images: "The server's image store: pull, load, list, remove (admin only).",
  sandboxes: "Sandboxes: isolated containers from an OCI image.",
  sessions: "Time-limited leases on a sandbox or service.",
  channels: "Byte transport of a session or sandbox: stdio, exec, files.",
  services: "Named, supervised sandboxes and their authenticated proxy.",
  events: "Lifecycle events as an NDJSON stream.",
  processes: "Processes started on demand in a sandbox: start, signal, stdin, output.",
};

const ERROR_REF = { $ref: "#/components/responses/Error" };

/** The error statuses the edge itself can answer for a route, whatever its handler does. */
function edgeErrorStatuses(r: RouteDef): number[] {
  const statuses = new Set<number>([404, 500]);
  if (r.params || r.query || r.body || r.rawBody) statuses.add(400);
  if (r.body || r.rawBody) statuses.add(413);
  if (r.access !== "public") statuses.add(401);
  if (r.access === "admin") statuses.add(403);
  return [...statuses];
}

function successResponse(resp: ResponseDef): unknown {
  const type = resp.contentType ?? (resp.schema ? "application/json" : undefined);
  if (!type) return { description: resp.description };
  const schema = resp.schema
    ? plain(resp.schema)
    : type === "application/octet-stream" || type === "application/x-tar"
      ? { type: "string", format: "binary" }
      : { type: "string" };
  return { description: resp.description, content: { [type]: { schema } } };
}

export function buildOpenApi(routes: RouteDef[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/[:*]([A-Za-z]+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, resp] of Object.entries(r.responses)) {
      responses[status] = Number(status) >= 400 && !resp.schema ? { ...(ERROR_REF as object), description: resp.description } : successResponse(resp);
    }
    for (const status of edgeErrorStatuses(r)) responses[status] ??= ERROR_REF;
    responses.default = ERROR_REF;
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operationId ?? deriveOperationId(r.method, r.path),
      summary: r.summary,
      tags: [r.tag],
      security: r.access === "public" ? [] : r.access === "admin" ? [{ adminToken: [] }] : [{ adminToken: [] }, { apiKey: [] }],
      parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query")],
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: plain(r.body) } } } } : {}),
      ...(r.rawBody ? { requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Nimbus native API",
      version,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      description: "Sandboxes, sessions and services of one Nimbus server. Errors use one envelope; see docs/errors.md.",
    },
    servers: [{ url: "/", description: "the server that served this document" }],
    tags: [...new Set(routes.map((r) => r.tag))].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    components: {
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "the local admin token (`nimbus auth token`)" },
        apiKey: { type: "apiKey", in: "header", name: "X-Nimbus-Api-Key", description: "(ext) a tenant API key" },
      },
      responses: {
        Error: { description: "the error envelope (docs/errors.md)", content: { "application/json": { schema: plain(ErrorEnvelopeSchema) } } },
      },
    },
    paths,
  };
}
