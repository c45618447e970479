/**
 * (ext) `GET …/files/watch?path=&recursive=`: inotify events of a directory
 * of a ready sandbox as NDJSON lines `{type, path, directory}` (plus
 * heartbeats), ending with `{type: "end", reason}` when the directory goes
 * away. The confinement and caps live in domain/sandbox-watch.ts.
 */
import { Type } from "@sinclair/typebox";
import type { Sandboxes } from "../../domain/sandboxes.js";
import type { SandboxWatches } from "../../domain/sandbox-watch.js";
import { requireReadySandbox } from "../../domain/channel-target.js";
import { openNdjson } from "../ndjson.js";
import { route, type RouteDef } from "../route.js";
import { strictObject } from "../schemas/common.js";
import { SandboxParams } from "../schemas/sandbox.js";

const WatchLine = strictObject(
  {
    type: Type.Union(
      ["create", "modify", "write_closed", "attrib", "delete", "moved_from", "moved_to", "overflow", "heartbeat", "end"].map((t) => Type.Literal(t)),
    ),
    path: Type.Optional(Type.String({ description: "absolute path inside the sandbox" })),
    directory: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ description: "why the stream ended (type end)" })),
  },
  "one change: `overflow` means events (or directories past the watch's cap) were missed",
);

export function fileWatchRoutes(sandboxes: Sandboxes, watches: SandboxWatches): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/files/watch",
      access: "tenant",
      tag: "channels",
      summary: "(ext) Stream changes below a directory of a ready sandbox (inotify) as NDJSON",
      params: SandboxParams,
      query: strictObject({
        path: Type.String({ minLength: 1, maxLength: 4096, pattern: "^/", description: "the directory to watch" }),
        recursive: Type.Optional(Type.Boolean({ description: "watch the directories below it too (new ones as they appear)" })),
      }),
      responses: {
        200: {
          description: "an NDJSON stream of changes until the client leaves or the directory is gone",
          contentType: "application/x-ndjson",
          schema: WatchLine,
        },
        409: { description: "the sandbox is not ready" },
        429: { description: "too many open watches" },
      },
      handler: async (ctx) => {
        const sandboxId = requireReadySandbox(sandboxes, ctx.tenantId, ctx.params.id).id;
        let stream: ReturnType<typeof openNdjson> | undefined;
        let endedEarly: string | undefined;
        const watch = await watches.open(ctx.tenantId, sandboxId, ctx.query.path, {
          recursive: ctx.query.recursive === true,
          alive: () => {
            try {
              requireReadySandbox(sandboxes, ctx.tenantId, sandboxId);
              return true;
            } catch {
              return false;
            }
          },
          onEvent: (e) => stream?.write(e),
          onEnd: (reason) => {
            if (!stream) endedEarly = reason;
            else if (!stream.closed) {
              stream.write({ type: "end", reason });
              stream.end();
            }
          },
        });
        stream = openNdjson(ctx.req, ctx.res, ctx.requestId);
        ctx.handled = true;
        stream.onClose(() => watch.close());
        if (endedEarly !== undefined) {
          stream.write({ type: "end", reason: endedEarly });
          stream.end();
        }
      },
    }),
  ];
}
