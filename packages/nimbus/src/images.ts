/**
 * `nimbus.images` (admin): the server's image store: pull (optionally with
 * NDJSON progress), list, remove, prune.
 */
import { NimbusError, STATUS_BY_CODE, fromWire } from "./errors.js";
import { readNdjson } from "./ndjson.js";
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
    const json = { reference: input.reference };
    if (!input.onProgress) {
      return this.#t.request({ method: "POST", path: "/api/images/pull", json, signal: input.signal });
    }
    const res = await this.#t.send({
      method: "POST",
      path: "/api/images/pull",
      json,
      accept: "application/x-ndjson",
      signal: input.signal,
    });
    for await (const line of readNdjson<PullProgress>(res)) {
      input.onProgress(line);
      if (line.kind === "error") throw fromWire(STATUS_BY_CODE[line.error.code] ?? 500, { error: line.error });
      if (line.kind === "done") {
        const { kind: _kind, image, ...rest } = line;
        return image ?? (rest as unknown as ImageRecord);
      }
    }
    throw new NimbusError({
      code: "client.protocol",
      message: `the pull of ${input.reference} ended without a "done" line; pull it again`,
      retryable: true,
    });
  }

  /**
   * Lists the images in the store.
   *
   * @example
   * const images = await nimbus.images.list();
   */
  async list(options: { signal?: AbortSignal } = {}): Promise<ImageRecord[]> {
    const page = await this.#t.request<{ items: ImageRecord[] }>({ method: "GET", path: "/api/images", signal: options.signal });
    return page.items;
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
   * Removes images and layers no sandbox uses.
   *
   * @example
   * const { freedBytes } = await nimbus.images.prune();
   */
  async prune(options: { signal?: AbortSignal } = {}): Promise<PruneResult> {
    return this.#t.request({ method: "POST", path: "/api/images/prune", json: {}, signal: options.signal });
  }
}
