/**
 * Route shapes that many resources share, so a route file says only what
 * differs: a DELETE answering 204, and a GET answering `{ items }`. They build
 * the same RouteDef (and the same OpenAPI operation) as writing it out.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { route, type RequestContext, type RouteDef } from "./route.js";
import { strictObject } from "./schemas/common.js";

/** What a route says about itself besides its method, responses and handler. */
type RouteHead<PS extends TSchema> = Pick<RouteDef<PS>, "path" | "operationId" | "access" | "tag" | "summary"> & { params: PS };

type ParamsContext<PS extends TSchema> = RequestContext<Static<PS>, unknown, unknown>;

/** A DELETE that answers 204 (described by `removed`) once `remove` is done. */
export function deleteRoute<PS extends TSchema>(def: RouteHead<PS> & { removed: string; remove(ctx: ParamsContext<PS>): Promise<void> | void }): RouteDef {
  const { removed, remove, ...head } = def;
  return route({ ...head, method: "DELETE", responses: { 204: { description: removed } }, handler: (ctx) => remove(ctx) });
}

/** A GET that answers 200 `{ items }` (described by `listed`), each item an `item`. */
export function listRoute<PS extends TSchema>(def: RouteHead<PS> & { listed: string; item: TSchema; list(ctx: ParamsContext<PS>): unknown[] }): RouteDef {
  const { listed, item, list, ...head } = def;
  const schema = strictObject({ items: Type.Array(item) });
  return route({
    ...head,
    method: "GET",
    responses: { 200: { description: listed, schema } },
    handler: (ctx) => ({ status: 200, body: { items: list(ctx) } }),
  });
}
