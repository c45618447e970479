/**
 * What a route is: method, path pattern, who may call it, the schemas its
 * inputs must satisfy, and a handler that receives only validated values.
 * Routes are plain data so the same list drives dispatch and /openapi.json.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Static, TSchema } from "@sinclair/typebox";
import type { Logger } from "../log.js";
import type { Principal } from "./auth.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";

/**
 * - `public`: no credential needed.
 * - `admin`: the admin token only (tenant keys get 403).
 * - `tenant`: admin token or a key of the route's tenant; `:tenantId` in the
 *   path is authorized before the handler runs, other routes call
 *   `ctx.authorizeTenant` themselves.
 * - `any`: any valid credential; the handler decides.
 */
export type Access = "public" | "admin" | "tenant" | "any";

export interface RequestContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  log: Logger;
  principal: Principal | undefined;
  params: P;
  query: Q;
  body: B;
  /** The route tenant after authorization (set for `:tenantId` routes). */
  tenantId: string;
  /** Resolve and authorize a tenant given in the query or body (or implied by the key). */
  authorizeTenant(tenantId: string | undefined): string;
  /** Set true by handlers that wrote the response themselves (streams, upgrades). */
  handled: boolean;
}

/** What a handler that writes its own response needs of its context, whatever its params, query and body. */
export type StreamingContext = RequestContext<unknown, unknown, unknown>;

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a route answers with one status: JSON by default, or a stream or bytes named by `contentType`. */
export interface ResponseDef {
  description: string;
  /** The body's schema: the whole JSON body, or one NDJSON line. */
  schema?: TSchema;
  /** @default "application/json" (when `schema` is set) */
  contentType?: "application/json" | "application/x-ndjson" | "application/octet-stream" | "application/x-tar" | "text/plain";
}

export interface RouteDef<PS extends TSchema = TSchema, QS extends TSchema = TSchema, BS extends TSchema = TSchema> {
  method: HttpMethod;
  path: string;
  /** The OpenAPI operationId; derived from the method and path when omitted. */
  operationId?: string;
  access: Access;
  summary: string;
  tag: string;
  params?: PS;
  query?: QS;
  body?: BS;
  /** Larger request bodies (e.g. file uploads) opt out of JSON parsing entirely. */
  rawBody?: boolean;
  /** Pass the query string through unparsed (proxies); `query` is then `{}`. */
  rawQuery?: boolean;
  responses: Record<number, ResponseDef>;
  // Method syntax on purpose: its parameter is checked bivariantly, so a route
  // typed by its own schemas is still a RouteDef in the shared list.
  handler(ctx: RequestContext<Static<PS>, Static<QS>, Static<BS>>): Promise<Reply | void> | Reply | void;
}

/** Identity helper that keeps the schema types flowing into the handler. */
export function route<PS extends TSchema, QS extends TSchema, BS extends TSchema>(def: RouteDef<PS, QS, BS>): RouteDef {
  return def;
}
