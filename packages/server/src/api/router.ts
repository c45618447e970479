/**
 * Path matching on raw segments. The path is split before decoding, so an
 * encoded `/` stays inside one parameter (where validation rejects it) and
 * dot segments are never normalised into a different route. A final `*name`
 * segment takes the rest of the path (zero or more segments) raw, undecoded.
 */
import { AppError, invalidInput } from "../domain/errors.js";
import type { HttpMethod, RouteDef } from "./route.js";

interface CompiledRoute {
  def: RouteDef;
  segments: Array<{ literal: string } | { param: string }>;
  /** The name of a final `*name` segment, when the route has one. */
  tail?: string;
}

export interface RouteMatch {
  def: RouteDef;
  params: Record<string, string>;
}

function splitPath(path: string): string[] {
  return path.split("/").slice(1);
}

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(defs: RouteDef[]) {
    this.routes = defs.map((def) => {
      const parts = splitPath(def.path);
      const tail = parts.at(-1)?.startsWith("*") ? parts.pop()!.slice(1) : undefined;
      return { def, segments: parts.map((s) => (s.startsWith(":") ? { param: s.slice(1) } : { literal: s })), ...(tail === undefined ? {} : { tail }) };
    });
  }

  get defs(): RouteDef[] {
    return this.routes.map((r) => r.def);
  }

  /** Finds the route for method+path; 404 for unknown paths, 405 (with Allow) for a known path with another method. */
  match(method: string, rawPath: string): RouteMatch {
    const parts = splitPath(rawPath);
    const allowed: HttpMethod[] = [];
    for (const r of this.routes) {
      const params = this.matchSegments(r, parts);
      if (!params) continue;
      if (r.def.method === method) return { def: r.def, params };
      allowed.push(r.def.method);
    }
    if (allowed.length > 0) {
      throw new AppError("op.method_not_allowed", `${method} is not supported on ${rawPath.slice(0, 200)}; use ${allowed.join(", ")}`, {
        headers: { allow: allowed.join(", ") },
        detail: { allowed },
      });
    }
    throw new AppError("op.not_found", `no route for ${method} ${rawPath.slice(0, 200)}; see /openapi.json for the routes this server has`);
  }

  private matchSegments(r: CompiledRoute, parts: string[]): Record<string, string> | undefined {
    if (r.tail === undefined ? parts.length !== r.segments.length : parts.length < r.segments.length) return undefined;
    const params: Record<string, string> = {};
    if (r.tail !== undefined) params[r.tail] = parts.slice(r.segments.length).join("/");
    for (let i = 0; i < r.segments.length; i++) {
      const seg = r.segments[i]!;
      const part = parts[i]!;
      if ("literal" in seg) {
        if (seg.literal !== part) return undefined;
      } else {
        if (part === "") return undefined;
        try {
          params[seg.param] = decodeURIComponent(part);
        } catch {
          throw invalidInput(`path parameter \`${seg.param}\` is not valid percent-encoding`, { field: seg.param, location: "path" });
        }
      }
    }
    return params;
  }
}
