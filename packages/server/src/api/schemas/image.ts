/**
 * Wire schemas of the image routes (admin `/api/images`, tenant `/api/tenants/{t}/images`). A record on the
 * wire never carries host paths: layers are named by digest only.
 */
import { Type } from "@sinclair/typebox";
import { TenantIdSchema, strictObject } from "./common.js";

/** A reference (`alpine:3`, `ghcr.io/o/x@sha256:…`) or a bare `sha256:…` digest; the images module parses it. */
const ReferenceString = Type.String({ minLength: 1, maxLength: 512, pattern: "^[^\\s\\u0000-\\u001f\\u007f]+$" });

export const ImageRefParams = strictObject({ ref: ReferenceString });

export const TenantImageRefParams = strictObject({ tenantId: TenantIdSchema, ref: ReferenceString });

export const PullImageBody = strictObject({ reference: ReferenceString });

export const ImageLayerSchema = strictObject({
  digest: Type.String({ description: "digest of the blob as the registry serves it (compressed)" }),
  diffId: Type.String({ description: "digest of the uncompressed tar" }),
  sizeBytes: Type.Integer({ minimum: 0 }),
});

export const ImageConfigSchema = strictObject({
  entrypoint: Type.Union([Type.Array(Type.String()), Type.Null()]),
  cmd: Type.Union([Type.Array(Type.String()), Type.Null()]),
  env: Type.Array(Type.String()),
  workingDir: Type.String(),
  user: Type.String(),
  exposedPorts: Type.Array(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
});

export const ImageSchema = strictObject({
  reference: Type.String({ description: "normalised, e.g. docker.io/library/node:22" }),
  public: Type.Boolean({ description: "marked public by the operator: every tenant may use it" }),
  digest: Type.String({ description: "what the reference resolved to (the index digest for multi-platform images)" }),
  sizeBytes: Type.Integer({ minimum: 0, description: "sum of the layer blob sizes" }),
  pulledAt: Type.String({ format: "date-time" }),
  layers: Type.Array(ImageLayerSchema, { description: "bottom layer first" }),
  config: ImageConfigSchema,
});

export const ImageListSchema = strictObject({ items: Type.Array(ImageSchema) });

export const PruneResultSchema = strictObject({
  removedImages: Type.Integer({ minimum: 0 }),
  removedLayers: Type.Integer({ minimum: 0 }),
  freedBytes: Type.Integer({ minimum: 0 }),
});
