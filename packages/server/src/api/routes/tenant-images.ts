/**
 * (ext) A tenant's images (issue 15, finding 18): `GET|POST
 * /api/tenants/{t}/images[/pull]`, `GET|DELETE /api/tenants/{t}/images/{ref}`.
 * A tenant sees only what it pulled (with its own registry credentials) and
 * what the operator marked public; anything else is 404 as if absent.
 */
import type { DiskGuard } from "../../domain/disk-guard.js";
import type { TenantImages } from "../../domain/tenant-images.js";
import type { TenantCaps } from "../../domain/tenant-caps.js";
import { deleteRoute } from "../route-kinds.js";
import { route, type RouteDef } from "../route.js";
import { TenantParams } from "../schemas/common.js";
import { ImageListSchema, ImageSchema, PullImageBody, TenantImageRefParams } from "../schemas/image.js";
import { answerPull, imageView } from "./images.js";

export function tenantImageRoutes(images: TenantImages, caps: Pick<TenantCaps, "acquire">, diskGuard?: Pick<DiskGuard, "check">): RouteDef[] {
  const isPublic = (r: Parameters<TenantImages["isPublic"]>[0]) => images.isPublic(r);
  return [
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/images",
      access: "tenant",
      tag: "images",
      summary: "(ext) List the images the tenant may use: those it pulled and those the operator marked public, by reference",
      params: TenantParams,
      responses: { 200: { description: "the tenant's images", schema: ImageListSchema } },
      handler: (ctx) => ({ status: 200, body: { items: images.list(ctx.tenantId).map((i) => imageView(i.record, i.public)) } }),
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/images/pull",
      access: "tenant",
      tag: "images",
      summary:
        "(ext) Pull an image for the tenant with its own registry credentials (the registry is asked even when the content is stored); with Accept: application/x-ndjson, streams progress",
      params: TenantParams,
      body: PullImageBody,
      responses: { 200: { description: "the image record, or the NDJSON progress stream", schema: ImageSchema } },
      handler: async (ctx) => {
        diskGuard?.check("pull an image");
        // Counted like the tenant's other concurrent work (finding 11): 429 past maxPulls.
        const release = caps.acquire(ctx.tenantId, "maxPulls");
        try {
          return await answerPull(ctx, ctx.body.reference, (opts) => images.pull(ctx.tenantId, ctx.body.reference, opts), isPublic);
        } finally {
          release();
        }
      },
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/images/:ref",
      access: "tenant",
      tag: "images",
      summary: "(ext) Inspect one of the tenant's images by reference or digest (one percent-encoded segment)",
      params: TenantImageRefParams,
      responses: { 200: { description: "the image", schema: ImageSchema } },
      handler: (ctx) => {
        const found = images.get(ctx.tenantId, ctx.params.ref);
        return { status: 200, body: imageView(found.record, found.public) };
      },
    }),
    deleteRoute({
      path: "/api/tenants/:tenantId/images/:ref",
      access: "tenant",
      tag: "images",
      summary: "(ext) Drop the tenant's reference to an image; content other tenants or a public mark use stays",
      params: TenantImageRefParams,
      removed: "removed",
      remove: (ctx) => {
        images.remove(ctx.tenantId, ctx.params.ref);
      },
    }),
  ];
}
