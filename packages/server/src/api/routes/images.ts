/**
 * Image administration (ext, admin only): list, pull (JSON, or NDJSON
 * progress), remove, prune, and load a tarball for air-gapped hosts. Records
 * go out through `imageView`, which drops the host paths of layer dirs.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage } from "node:http";
import { AppError } from "../../domain/errors.js";
import { translateImageError } from "../../domain/translate-errors.js";
import type { ImageRecord, ImageStore, PullProgress } from "../../images/index.js";
import { errorEnvelope, toAppError } from "../errors.js";
import { openNdjson } from "../ndjson.js";
import { deleteRoute } from "../route-kinds.js";
import { route, type Reply, type RouteDef, type StreamingContext } from "../route.js";
import type { TenantImages } from "../../domain/tenant-images.js";
import { ImageListSchema, ImageRefParams, ImageSchema, PruneResultSchema, PullImageBody } from "../schemas/image.js";

export const DEFAULT_MAX_LOAD_BYTES = 8 * 1024 ** 3;

import type { DiskGuard } from "../../domain/disk-guard.js";

export interface ImageRouteDeps {
  images: ImageStore;
  /** Tenants' references and the public marks. */
  tenantImages: Pick<TenantImages, "isPublic" | "markPublic" | "unmarkPublic" | "digestsInUse">;
  /** Digests of the images that existing (not deleted) sandboxes were made from. */
  digestsInUse: () => Set<string>;
  /** Where uploaded tarballs are staged: the image store's `tmp/`, which it empties at boot. */
  uploadDir: string;
  /** Largest tarball `POST /api/images/load` accepts. @default 8 GiB */
  maxLoadBytes?: number;
  /** Refuses pulls and loads (507) while the disk is nearly full. */
  diskGuard?: Pick<DiskGuard, "check">;
}

/** The wire form of an image record: no host paths; `public` when the operator marked it so. */
export function imageView(r: ImageRecord, isPublic: boolean) {
  return {
    reference: r.reference,
    public: isPublic,
    digest: r.digest,
    sizeBytes: r.sizeBytes,
    pulledAt: r.pulledAt,
    layers: r.layers.map((l) => ({ digest: l.digest, diffId: l.diffId, sizeBytes: l.sizeBytes })),
    config: r.config,
  };
}

/**
 * Answers a pull: the record as JSON, or (Accept: application/x-ndjson)
 * progress lines ending with done or error. The pull is shared with other
 * callers of the same party, so a client going away does not cancel it.
 */
export async function answerPull(
  ctx: StreamingContext,
  reference: string,
  pull: (opts: { onProgress?: (p: PullProgress) => void }) => Promise<ImageRecord>,
  isPublic: (r: ImageRecord) => boolean,
): Promise<Reply | void> {
  if (!(ctx.req.headers.accept ?? "").includes("application/x-ndjson")) {
    const record = await pull({}).catch((err: unknown) => {
      const appErr = translateImageError(err);
      if (appErr.status >= 500) ctx.log.warn("image pull failed", { reference, code: appErr.code, err });
      throw appErr;
    });
    return { status: 200, body: imageView(record, isPublic(record)) };
  }
  const stream = openNdjson(ctx.req, ctx.res, ctx.requestId);
  ctx.handled = true;
  try {
    await pull({ onProgress: (p) => stream.write(p.kind === "done" ? { kind: "done", image: imageView(p.image, isPublic(p.image)) } : p) });
  } catch (err) {
    const appErr = toAppError(translateImageError(err), ctx.log);
    if (appErr.status >= 500) ctx.log.warn("image pull failed", { reference, code: appErr.code, err });
    stream.write({ kind: "error", error: errorEnvelope(appErr, ctx.requestId).error });
  }
  stream.end();
}

function tooLarge(limit: number): AppError {
  return new AppError("op.payload_too_large", `the image archive is larger than ${limit} bytes; load a smaller archive (one image per file)`, {
    detail: { limitBytes: limit },
  });
}

/** Streams the request body into `file`, refusing more than `limit` bytes (declared or received). */
async function receive(req: IncomingMessage, file: string, limit: number): Promise<number> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > limit ? tooLarge(limit) : null, chunk);
    },
  });
  try {
    await pipeline(req, cap, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError("op.invalid_input", "the upload of the image archive broke off before its end; send the whole file again", { cause: err });
  }
  if (size === 0) throw new AppError("op.invalid_input", "the request body is empty; send the image tarball as the body", { detail: { location: "body" } });
  return size;
}

/** An image error about the staged upload, with its host path replaced by what the caller sent. */
function hideUploadPath(err: AppError, file: string): AppError {
  if (!err.message.includes(file)) return err;
  return new AppError(err.code, err.message.split(file).join("the uploaded archive"), { detail: err.detail, cause: err });
}

export function imageRoutes(deps: ImageRouteDeps): RouteDef[] {
  const { images, tenantImages } = deps;
  const isPublic = (r: ImageRecord) => tenantImages.isPublic(r);
  // Prune keeps what a sandbox, a tenant's reference or a public mark still names.
  const digestsInUse = () => new Set([...deps.digestsInUse(), ...tenantImages.digestsInUse()]);
  const maxLoadBytes = deps.maxLoadBytes ?? DEFAULT_MAX_LOAD_BYTES;
  return [
    route({
      method: "GET",
      path: "/api/images",
      access: "admin",
      tag: "images",
      summary: "(ext) List every image in the store (all tenants'), sorted by reference (code-point order)",
      responses: { 200: { description: "images", schema: ImageListSchema } },
      handler: () => {
        const items = images
          .list()
          .map((r) => imageView(r, isPublic(r)))
          .sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
        return { status: 200, body: { items } };
      },
    }),
    route({
      method: "POST",
      path: "/api/images/pull",
      access: "admin",
      tag: "images",
      summary:
        "(ext) Pull an image with the operator's registry credentials (answers from the store when present); with Accept: application/x-ndjson, streams resolved/layer lines and ends with done or error",
      body: PullImageBody,
      responses: { 200: { description: "the image record, or the NDJSON progress stream", schema: ImageSchema } },
      handler: async (ctx) => {
        deps.diskGuard?.check("pull an image");
        return answerPull(ctx, ctx.body.reference, (opts) => images.pull(ctx.body.reference, opts), isPublic);
      },
    }),
    deleteRoute({
      path: "/api/images/:ref",
      access: "admin",
      tag: "images",
      summary: "(ext) Remove an image by reference or digest (one percent-encoded segment); its content stays until prune",
      params: ImageRefParams,
      removed: "removed",
      remove: async (ctx) => {
        const ref = ctx.params.ref;
        const record = images.resolveLocal(ref);
        if (record && deps.digestsInUse().has(record.digest)) {
          throw new AppError("op.conflict", `image ${record.reference} (${record.digest}) is used by a sandbox; delete the sandboxes made from it first`, {
            detail: { reference: record.reference, digest: record.digest },
          });
        }
        await images.remove(ref).catch((err: unknown) => {
          throw translateImageError(err);
        });
      },
    }),
    route({
      method: "PUT",
      path: "/api/images/:ref/public",
      operationId: "markImagePublic",
      access: "admin",
      tag: "images",
      summary: "(ext) Mark a stored image (reference or digest) public: every tenant may list it and create sandboxes from it",
      params: ImageRefParams,
      responses: { 200: { description: "the image, now public", schema: ImageSchema } },
      handler: (ctx) => {
        const record = tenantImages.markPublic(ctx.params.ref);
        return { status: 200, body: imageView(record, true) };
      },
    }),
    route({
      method: "DELETE",
      path: "/api/images/:ref/public",
      operationId: "unmarkImagePublic",
      access: "admin",
      tag: "images",
      summary: "(ext) Take the public mark off an image; tenants that pulled it themselves keep their references",
      params: ImageRefParams,
      responses: { 204: { description: "no longer public" } },
      handler: (ctx) => {
        tenantImages.unmarkPublic(ctx.params.ref);
      },
    }),
    route({
      method: "POST",
      path: "/api/images/prune",
      access: "admin",
      tag: "images",
      summary: "(ext) Remove every image no existing sandbox, tenant reference or public mark uses, then every blob and layer no remaining image needs",
      responses: { 200: { description: "what was removed", schema: PruneResultSchema } },
      handler: async () => {
        const r = await images.prune(digestsInUse()).catch((err: unknown) => {
          throw translateImageError(err);
        });
        return { status: 200, body: { removedImages: r.removedImages.length, removedLayers: r.removedLayers.length, freedBytes: r.freedBytes } };
      },
    }),
    route({
      method: "POST",
      path: "/api/images/load",
      access: "admin",
      tag: "images",
      summary: "(ext) Load every image of an OCI-layout or docker-archive tarball sent as the raw body (at most 8 GiB)",
      rawBody: true,
      responses: { 201: { description: "the loaded images", schema: ImageListSchema } },
      handler: async (ctx) => {
        deps.diskGuard?.check("load an image");
        const file = join(deps.uploadDir, `upload-${randomBytes(8).toString("hex")}.tar`);
        try {
          await receive(ctx.req, file, maxLoadBytes);
          const records = await images.load(file);
          return { status: 201, body: { items: records.map((r) => imageView(r, isPublic(r))) } };
        } catch (err) {
          throw hideUploadPath(translateImageError(err), file);
        } finally {
          await rm(file, { force: true });
        }
      },
    }),
  ];
}
