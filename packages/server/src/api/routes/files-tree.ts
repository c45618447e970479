/**
 * (ext) The files API beyond content: list, stat, mkdir, remove, rename in a
 * ready sandbox's root. Reads are GETs with the path in the query; changes
 * are POSTs with a JSON body. The rules (confinement, bounds, ownership)
 * live in domain/sandbox-tree.ts.
 */
import { Type } from "@sinclair/typebox";
import type { Sandboxes } from "../../domain/sandboxes.js";
import type { SandboxTree } from "../../domain/sandbox-tree.js";
import { MAX_LIST_DEPTH, MAX_LIST_ENTRIES } from "../../domain/sandbox-tree.js";
import { requireReadySandbox } from "../../domain/channel-target.js";
import { route, type RouteDef } from "../route.js";
import { strictObject } from "../schemas/common.js";
import { SandboxParams } from "../schemas/sandbox.js";
import { FileEntrySchema } from "../schemas/files.js";

const SandboxPath = (description = "absolute path inside the sandbox") => Type.String({ minLength: 1, maxLength: 4096, pattern: "^/", description });

const ListResult = strictObject({
  path: Type.String(),
  entries: Type.Array(FileEntrySchema),
  truncated: Type.Boolean({ description: "true when the entry cap cut the listing short" }),
});
const ListQuery = strictObject({
  path: SandboxPath("the directory to list"),
  depth: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_LIST_DEPTH, default: 1, description: "levels to descend; 1 lists the directory's own entries" }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_ENTRIES, default: 1000, description: "most entries to answer" })),
});
const MkdirBody = strictObject({
  path: SandboxPath(),
  parents: Type.Optional(Type.Boolean({ description: "create missing parents too, and accept an existing directory (mkdir -p)" })),
  mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o7777, description: "permission bits, default 0o755; setuid, setgid and sticky bits are dropped" })),
  user: Type.Optional(
    Type.String({ pattern: "^[0-9]{1,10}(:[0-9]{1,10})?$", description: "numeric uid[:gid] that owns what is created; default the sandbox's process user" }),
  ),
});
const RemoveBody = strictObject({
  path: SandboxPath(),
  recursive: Type.Optional(Type.Boolean({ description: "remove a directory with its contents (rm -r)" })),
});
const RemoveResult = strictObject({ path: Type.String(), removedEntries: Type.Integer() });
const RenameBody = strictObject({ from: SandboxPath("the entry to move"), to: SandboxPath("its new path; a file there is replaced, as mv does") });
const RenameResult = strictObject({ from: Type.String(), to: Type.String() });

const NOT_READY = { 409: { description: "the sandbox is not ready, or the tree changed in a way that prevents the operation" } };

export function fileTreeRoutes(sandboxes: Sandboxes, tree: SandboxTree): RouteDef[] {
  const base = "/api/tenants/:tenantId/sandboxes/:id/files";
  const target = (tenantId: string, id: string) => requireReadySandbox(sandboxes, tenantId, id).id;
  return [
    route({
      method: "GET",
      path: `${base}/list`,
      access: "tenant",
      tag: "channels",
      summary: "(ext) List a directory of a ready sandbox (recursive to a depth, capped)",
      params: SandboxParams,
      query: ListQuery,
      responses: { 200: { description: "the entries, depth first, names sorted", schema: ListResult }, ...NOT_READY },
      handler: async (ctx) => {
        const q = ctx.query;
        return { status: 200, body: await tree.list(ctx.tenantId, target(ctx.tenantId, ctx.params.id), q.path, { depth: q.depth, limit: q.limit }) };
      },
    }),
    route({
      method: "GET",
      path: `${base}/stat`,
      access: "tenant",
      tag: "channels",
      summary: "(ext) What a path of a ready sandbox is (a final symlink is reported, not followed)",
      params: SandboxParams,
      query: strictObject({ path: SandboxPath() }),
      responses: { 200: { description: "the entry", schema: FileEntrySchema }, ...NOT_READY },
      handler: async (ctx) => ({ status: 200, body: await tree.stat(ctx.tenantId, target(ctx.tenantId, ctx.params.id), ctx.query.path) }),
    }),
    route({
      method: "POST",
      path: `${base}/mkdir`,
      access: "tenant",
      tag: "channels",
      summary: "(ext) Create a directory in a ready sandbox (with parents: mkdir -p)",
      params: SandboxParams,
      body: MkdirBody,
      responses: { 201: { description: "created (or, with parents, already there)", schema: FileEntrySchema }, ...NOT_READY },
      handler: async (ctx) => {
        const b = ctx.body;
        return {
          status: 201,
          body: await tree.mkdir(ctx.tenantId, target(ctx.tenantId, ctx.params.id), b.path, { parents: b.parents, mode: b.mode, user: b.user }),
        };
      },
    }),
    route({
      method: "POST",
      path: `${base}/remove`,
      access: "tenant",
      tag: "channels",
      summary: "(ext) Remove a file, symlink or (recursive) directory in a ready sandbox",
      params: SandboxParams,
      body: RemoveBody,
      responses: { 200: { description: "removed", schema: RemoveResult }, ...NOT_READY },
      handler: async (ctx) => ({
        status: 200,
        body: await tree.remove(ctx.tenantId, target(ctx.tenantId, ctx.params.id), ctx.body.path, { recursive: ctx.body.recursive }),
      }),
    }),
    route({
      method: "POST",
      path: `${base}/rename`,
      access: "tenant",
      tag: "channels",
      summary: "(ext) Rename or move an entry within a ready sandbox",
      params: SandboxParams,
      body: RenameBody,
      responses: { 200: { description: "moved", schema: RenameResult }, ...NOT_READY },
      handler: async (ctx) => ({ status: 200, body: await tree.rename(ctx.tenantId, target(ctx.tenantId, ctx.params.id), ctx.body.from, ctx.body.to) }),
    }),
  ];
}
