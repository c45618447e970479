/**
 * /openapi.json, generated from the same route list and schemas that
 * validate requests, so the document cannot drift from the server.
 */
import type { TSchema } from "@sinclair/typebox";
import type { RouteDef } from "./route.js";
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

export function buildOpenApi(routes: RouteDef[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/[:*]([A-Za-z]+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, resp] of Object.entries(r.responses)) {
      responses[status] = resp.schema ? { description: resp.description, content: { "application/json": { schema: plain(resp.schema) } } } : { description: resp.description };
    }
    responses.default = { description: "error envelope", content: { "application/json": { schema: plain(ErrorEnvelopeSchema) } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      security: r.access === "public" ? [] : r.access === "admin" ? [{ adminToken: [] }] : [{ adminToken: [] }, { apiKey: [] }],
      parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query")],
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: plain(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Nimbus native API", version },
    components: {
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "the local admin token (`nimbus auth token`)" },
        apiKey: { type: "apiKey", in: "header", name: "X-Nimbus-Api-Key", description: "(ext) a tenant API key" },
      },
    },
    paths,
  };
}
