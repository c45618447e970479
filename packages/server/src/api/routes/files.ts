/**
 * (ext) The files channel: `GET|PUT …/files/content?path=/abs/path` streams a
 * file out of / into a ready sandbox's root. Downloads carry
 * `x-content-sha256`; uploads answer `{path, sizeBytes, sha256}`. The rules
 * (confinement, regular files only, size limit, ownership) live in
 * domain/sandbox-files.ts.
 */
import { Type } from "@sinclair/typebox";
import type { Sandboxes } from "../../domain/sandboxes.js";
import type { Sessions } from "../../domain/sessions.js";
import type { SandboxFiles } from "../../domain/sandbox-files.js";
import { route, type RequestContext, type RouteDef, type StreamingContext } from "../route.js";
import { PathNameSchema, TenantIdSchema, strictObject } from "../schemas/common.js";
import { SandboxParams } from "../schemas/sandbox.js";
import { requireReadySandbox, requireSessionChannel } from "../../domain/channel-target.js";
import { SandboxTree } from "../../domain/sandbox-tree.js";
import { fileTreeRoutes } from "./files-tree.js";
import { SandboxArchive } from "../../domain/sandbox-archive.js";
import { fileArchiveRoutes } from "./files-archive.js";
import { SandboxWatches } from "../../domain/sandbox-watch.js";
import { fileWatchRoutes } from "./files-watch.js";

const PathQuery = { path: Type.String({ minLength: 1, maxLength: 4096, pattern: "^/", description: "absolute path inside the sandbox" }) };
const ModeQuery = {
  mode: Type.Optional(Type.String({ pattern: "^[0-7]{3,4}$", description: "octal permission bits, default 644; setuid, setgid and sticky bits are dropped" })),
};
const UserQuery = {
  user: Type.Optional(
    Type.String({ pattern: "^[0-9]{1,10}(:[0-9]{1,10})?$", description: "numeric uid[:gid] that owns the uploaded file; default the sandbox's process user" }),
  ),
};
const SessionParams = strictObject({ id: PathNameSchema });
const UploadResult = strictObject({ path: Type.String(), sizeBytes: Type.Integer(), sha256: Type.String() });

interface Target {
  tenantId: string;
  sandboxId: string;
}

export function drainOrClose(res: RequestContext["res"]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

async function download(ctx: StreamingContext, files: SandboxFiles, t: Target, path: string): Promise<void> {
  const file = await files.openForRead(t.tenantId, t.sandboxId, path);
  try {
    ctx.res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": file.sizeBytes,
      "x-content-sha256": file.sha256,
      "x-request-id": ctx.requestId,
    });
    ctx.handled = true;
    for await (const chunk of file.stream()) {
      // A client that went away must not keep the file open waiting for a drain that never comes.
      if (!ctx.res.write(chunk)) await drainOrClose(ctx.res);
      if (ctx.res.destroyed) return;
    }
    ctx.res.end();
  } finally {
    await file.close();
  }
}

async function upload(ctx: StreamingContext, files: SandboxFiles, t: Target, q: { path: string; mode?: string; user?: string }) {
  const announced = ctx.req.headers["content-length"];
  // Refused on the header alone: close the connection too, so the client stops sending the body instead of having it drained.
  if (announced !== undefined && Number(announced) > files.limitBytes) ctx.res.setHeader("connection", "close");
  const r = await files.writeFromStream(t.tenantId, t.sandboxId, q.path, ctx.req, {
    mode: q.mode === undefined ? undefined : parseInt(q.mode, 8),
    user: q.user,
    ...(announced !== undefined && /^\d+$/.test(announced) ? { announcedBytes: Number(announced) } : {}),
  });
  return { status: 200, body: r };
}

export function fileRoutes(sandboxes: Sandboxes, sessions: Sessions, files: SandboxFiles): RouteDef[] {
  const sandboxRoot = (tenantId: string, id: string): Target => ({ tenantId, sandboxId: requireReadySandbox(sandboxes, tenantId, id).id });
  const sessionRoot = (tenantId: string, sessionId: string): Target => ({
    tenantId,
    sandboxId: requireSessionChannel(sessions, sandboxes, tenantId, sessionId, "files").id,
  });
  const SessionQuery = { tenantId: Type.Optional(TenantIdSchema) };
  const tree = new SandboxTree(files);
  return [
    ...fileTreeRoutes(sandboxes, tree),
    ...fileArchiveRoutes(sandboxes, new SandboxArchive(files, tree)),
    ...fileWatchRoutes(sandboxes, new SandboxWatches(files)),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/files/content",
      access: "tenant",
      tag: "channels",
      summary: "(ext) Download a file from a ready sandbox (x-content-sha256 header)",
      params: SandboxParams,
      query: strictObject(PathQuery),
      responses: { 200: { description: "the bytes", contentType: "application/octet-stream" } },
      handler: (ctx) => download(ctx, files, sandboxRoot(ctx.tenantId, ctx.params.id), ctx.query.path),
    }),
    route({
      method: "PUT",
      path: "/api/tenants/:tenantId/sandboxes/:id/files/content",
      access: "tenant",
      tag: "channels",
      summary: "(ext) Upload a file into a ready sandbox (replaced atomically, size-limited)",
      params: SandboxParams,
      query: strictObject({ ...PathQuery, ...ModeQuery, ...UserQuery }),
      rawBody: true,
      responses: { 200: { description: "written", schema: UploadResult } },
      handler: (ctx) => upload(ctx, files, sandboxRoot(ctx.tenantId, ctx.params.id), ctx.query),
    }),
    route({
      method: "GET",
      path: "/api/sessions/:id/channels/files/content",
      access: "tenant",
      tag: "channels",
      summary: "(ext) The files channel of a session: download a file from its sandbox",
      params: SessionParams,
      query: strictObject({ ...PathQuery, ...SessionQuery }),
      responses: { 200: { description: "the bytes", contentType: "application/octet-stream" } },
      handler: (ctx) => download(ctx, files, sessionRoot(ctx.authorizeTenant(ctx.query.tenantId), ctx.params.id), ctx.query.path),
    }),
    route({
      method: "PUT",
      path: "/api/sessions/:id/channels/files/content",
      access: "tenant",
      tag: "channels",
      summary: "(ext) The files channel of a session: upload a file into its sandbox",
      params: SessionParams,
      query: strictObject({ ...PathQuery, ...ModeQuery, ...UserQuery, ...SessionQuery }),
      rawBody: true,
      responses: { 200: { description: "written", schema: UploadResult } },
      handler: (ctx) => upload(ctx, files, sessionRoot(ctx.authorizeTenant(ctx.query.tenantId), ctx.params.id), ctx.query),
    }),
  ];
}
