/**
 * `nimbus.images` (admin): the server's image store: pull (optionally with
 * NDJSON progress), list, remove, prune, load a tarball, and mark images
 * public. `nimbus.tenantImages` (ext): one tenant's images, which are only
 * those it pulled (with its own registry credentials) and the public ones.
 */
import { open } from "node:fs/promises";
import { NimbusError, NimbusInvalidInputError, STATUS_BY_CODE, fromWire } from "./errors.js";
import { readNdjson } from "./ndjson.js";
import { listItems } from "./paging.js";
import { tenantPath } from "./tenant-path.js";
import { apiPath, type Transport } from "./transport.js";
import type { ImageRecord, PruneResult, PullProgress } from "./types/admin.js";

/**
 * Input of {@link ImagesApi.pull}.
 *
 * @example
 * await nimbus.images.pull({ reference: "docker.io/library/alpine:3", onProgress: (p) => console.log(p) });
 */
export interface PullInput {
  reference: string;
  /** Receives each progress line; asks the server for an NDJSON stream. */
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
}

/**
 * Input of {@link ImagesApi.load}: a local tarball path, or its bytes as a
 * stream (e.g. `process.stdin`). Either an OCI-layout archive
 * (`skopeo copy … oci-archive:FILE`) or a `docker save` archive.
 *
 * @example
 * await nimbus.images.load({ file: "./busybox.tar" });
 */
export type LoadInput = ({ file: string } | { stream: AsyncIterable<Uint8Array> | Uint8Array }) & { signal?: AbortSignal };

const PROGRESS_KINDS = new Set(["resolved", "layer", "done", "error"]);

/** POSTs a pull to `path`: the record as JSON, or the NDJSON progress stream when `onProgress` is given. */
async function pullThrough(t: Transport, path: string, input: PullInput): Promise<ImageRecord> {
  const json = { reference: input.reference };
  if (!input.onProgress) return t.request({ method: "POST", path, json, signal: input.signal });
  const res = await t.send({
    method: "POST",
    path,
    json,
    accept: "application/x-ndjson",
    signal: input.signal,
  });
  try {
    for await (const line of readNdjson<PullProgress>(res)) {
      // Other lines (heartbeats that keep idle proxies open) are not progress.
      if (!PROGRESS_KINDS.has(line?.kind)) continue;
      input.onProgress(line);
      if (line.kind === "error") throw fromWire(STATUS_BY_CODE[line.error.code] ?? 500, { error: line.error });
      if (line.kind === "done") {
        if (line.image) return line.image;
        throw new NimbusError({ code: "client.protocol", message: "the server's pull ended with a done line that carries no image record" });
      }
    }
  } catch (err) {
    if (err instanceof NimbusError || input.signal?.aborted) throw err;
    throw new NimbusError({
      code: "client.network",
      message: `the connection to Nimbus broke during the pull of ${input.reference} (${(err as Error).message}); pull it again`,
      retryable: true,
      cause: err,
    });
  }
  throw new NimbusError({
    code: "client.protocol",
    message: `the pull of ${input.reference} ended without a "done" line; pull it again`,
    retryable: true,
  });
}

/**
 * Images held by the server.
 *
 * @example
 * for (const img of await nimbus.images.list()) console.log(img.reference, img.sizeBytes);
 */
export class ImagesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Pulls an image into the store and returns its record.
   *
   * @example
   * const { digest } = await nimbus.images.pull({ reference: "alpine:3" });
   */
  async pull(input: PullInput): Promise<ImageRecord> {
    return pullThrough(this.#t, "/api/images/pull", input);
  }

  /**
   * Marks a stored image public: every tenant may list it and create sandboxes from it.
   *
   * @example
   * await nimbus.images.markPublic({ reference: "docker.io/library/alpine:3" });
   */
  async markPublic(input: { reference: string; signal?: AbortSignal }): Promise<ImageRecord> {
    return this.#t.request({ method: "PUT", path: apiPath`/api/images/${input.reference}/public`, signal: input.signal });
  }

  /**
   * Takes the public mark off an image; tenants that pulled it themselves keep it.
   *
   * @example
   * await nimbus.images.unmarkPublic({ reference: "docker.io/library/alpine:3" });
   */
  async unmarkPublic(input: { reference: string; signal?: AbortSignal }): Promise<void> {
    await this.#t.request({ method: "DELETE", path: apiPath`/api/images/${input.reference}/public`, signal: input.signal });
  }

  /**
   * Lists the images in the store.
   *
   * @example
   * const images = await nimbus.images.list();
   */
  async list(options: { signal?: AbortSignal } = {}): Promise<ImageRecord[]> {
    return listItems<ImageRecord>(this.#t, "/api/images", options.signal);
  }

  /**
   * Removes an image by reference or digest (sent as one encoded path segment).
   *
   * @example
   * await nimbus.images.remove({ reference: "docker.io/library/alpine:3" });
   */
  async remove(input: { reference: string; signal?: AbortSignal }): Promise<void> {
    await this.#t.request({ method: "DELETE", path: apiPath`/api/images/${input.reference}`, signal: input.signal });
  }

  /**
   * Loads every image of a tarball into the store (for hosts without
   * registry access) and returns their records. The body is streamed, so
   * large archives are never held in memory.
   *
   * @example
   * const [img] = await nimbus.images.load({ file: "./alpine.tar" });
   */
  async load(input: LoadInput): Promise<ImageRecord[]> {
    let body: AsyncIterable<Uint8Array> | Uint8Array;
    let close = async () => {};
    if ("file" in input) {
      const fh = await open(input.file, "r").catch((cause: NodeJS.ErrnoException) => {
        throw new NimbusInvalidInputError({
          code: "op.invalid_input",
          message: `cannot read ${input.file} (${cause.code ?? cause.message}); pass the path of an image tarball`,
          cause,
        });
      });
      body = fh.createReadStream();
      close = () => fh.close().catch(() => {});
    } else {
      body = input.stream;
    }
    try {
      const page = await this.#t.request<{ items: ImageRecord[] }>({
        method: "POST",
        path: "/api/images/load",
        body,
        headers: { "content-type": "application/x-tar" },
        signal: input.signal,
      });
      return page.items;
    } finally {
      await close();
    }
  }

  /**
   * Removes images and layers no sandbox uses.
   *
   * @example
   * const { freedBytes } = await nimbus.images.prune();
   */
  async prune(options: { signal?: AbortSignal } = {}): Promise<PruneResult> {
    return this.#t.request({ method: "POST", path: "/api/images/prune", json: {}, signal: options.signal });
  }
}

type Signal = { signal?: AbortSignal };

/**
 * One tenant's images (ext): those it pulled, with its own registry
 * credentials, and those the operator marked public. Another tenant's image
 * is `NimbusNotFoundError` here, as if it did not exist.
 *
 * @example
 * await nimbus.tenantImages.pull({ reference: "ghcr.io/acme/app:1" });
 */
export class TenantImagesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Pulls for the tenant; the registry checks the tenant's credentials even when the content is stored.
   *
   * @example
   * const img = await nimbus.tenantImages.pull({ reference: "alpine:3" });
   */
  async pull(input: PullInput & { tenantId?: string }): Promise<ImageRecord> {
    return pullThrough(this.#t, tenantPath(this.#t, input.tenantId, "images/pull"), input);
  }

  /**
   * The images the tenant may use.
   *
   * @example
   * for (const img of await nimbus.tenantImages.list()) console.log(img.reference, img.public);
   */
  async list(input: { tenantId?: string } & Signal = {}): Promise<ImageRecord[]> {
    return listItems<ImageRecord>(this.#t, tenantPath(this.#t, input.tenantId, "images"), input.signal);
  }

  /**
   * One of the tenant's images, by reference or digest.
   *
   * @example
   * const img = await nimbus.tenantImages.get({ reference: "alpine:3" });
   */
  async get(input: { tenantId?: string; reference: string } & Signal): Promise<ImageRecord> {
    return this.#t.request({ method: "GET", path: tenantPath(this.#t, input.tenantId, "images", input.reference), signal: input.signal });
  }

  /**
   * Drops the tenant's reference; content others use stays.
   *
   * @example
   * await nimbus.tenantImages.remove({ reference: "alpine:3" });
   */
  async remove(input: { tenantId?: string; reference: string } & Signal): Promise<void> {
    await this.#t.request({ method: "DELETE", path: tenantPath(this.#t, input.tenantId, "images", input.reference), signal: input.signal });
  }
}
