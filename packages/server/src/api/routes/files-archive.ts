/**
 * (ext) A directory of a ready sandbox as a tar stream: `GET …/files/archive`
 * sends it, `PUT …/files/archive` extracts one into it. The rules
 * (confinement, entry kinds, bounds, ownership) live in domain/sandbox-archive.ts.
 */
import { Type } from "@sinclair/typebox";
import type { Sandboxes } from "../../domain/sandboxes.js";
import type { SandboxArchive } from "../../domain/sandbox-archive.js";
import { requireReadySandbox } from "../../domain/channel-target.js";
import { route, type RouteDef, type StreamingContext } from "../route.js";
import { strictObject } from "../schemas/common.js";
import { SandboxParams } from "../schemas/sandbox.js";
import { drainOrClose } from "./files.js";

const DirQuery = { path: Type.String({ minLength: 1, maxLength: 4096, pattern: "^/", description: "absolute path of a directory inside the sandbox" }) };
const UserQuery = {
  user: Type.Optional(
    Type.String({ pattern: "^[0-9]{1,10}(:[0-9]{1,10})?$", description: "numeric uid[:gid] that owns what is extracted; default the sandbox's process user" }),
  ),
};
const ExtractResult = strictObject({
  path: Type.String(),
  entries: Type.Integer({ description: "entries extracted" }),
  sizeBytes: Type.Integer({ description: "their files' total size" }),
});

async function download(ctx: StreamingContext, archive: SandboxArchive, tenantId: string, sandboxId: string, path: string): Promise<void> {
  const tar = await archive.openForDownload(tenantId, sandboxId, path);
  try {
    ctx.res.writeHead(200, { "content-type": "application/x-tar", "x-request-id": ctx.requestId });
    ctx.handled = true;
    for await (const chunk of tar.stream()) {
      if (!ctx.res.write(chunk)) await drainOrClose(ctx.res);
      if (ctx.res.destroyed) return;
    }
    ctx.res.end();
  } catch (err) {
    // Headers are out: a failure now can only cut the stream, which the client sees as a truncated archive.
    if (!ctx.handled) throw err;
    ctx.log.warn("archive download failed mid-stream", { path, err: String(err) });
    ctx.res.destroy();
  } finally {
    tar.close();
  }
}

export function fileArchiveRoutes(sandboxes: Sandboxes, archive: SandboxArchive): RouteDef[] {
  const path = "/api/tenants/:tenantId/sandboxes/:id/files/archive";
  const target = (tenantId: string, id: string) => requireReadySandbox(sandboxes, tenantId, id).id;
  return [
    route({
      method: "GET",
      path,
      access: "tenant",
      tag: "channels",
      summary: "(ext) Download a directory of a ready sandbox as a tar stream (symlinks kept as links; size-limited)",
      params: SandboxParams,
      query: strictObject(DirQuery),
      responses: {
        200: { description: "an uncompressed tar archive, entry names relative to the directory", contentType: "application/x-tar" },
        409: { description: "the sandbox is not ready" },
        413: { description: "the directory is over the entry, depth or size limit" },
      },
      handler: (ctx) => download(ctx, archive, ctx.tenantId, target(ctx.tenantId, ctx.params.id), ctx.query.path),
    }),
    route({
      method: "PUT",
      path,
      access: "tenant",
      tag: "channels",
      summary: "(ext) Extract a tar stream into a directory of a ready sandbox (created if missing)",
      params: SandboxParams,
      query: strictObject({ ...DirQuery, ...UserQuery }),
      rawBody: true,
      responses: {
        200: { description: "extracted", schema: ExtractResult },
        409: { description: "the sandbox is not ready, or the tree changed while extracting" },
      },
      handler: async (ctx) => ({
        status: 200,
        body: await archive.extract(ctx.tenantId, target(ctx.tenantId, ctx.params.id), ctx.query.path, ctx.req, { user: ctx.query.user }),
      }),
    }),
  ];
}
