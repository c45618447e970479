/**
 * `nimbus.files` (ext): stream files into and out of a sandbox's root over
 * `GET|PUT /api/tenants/{t}/sandboxes/{id}/files/content?path=`. Downloads
 * are checked against the server's `x-content-sha256` header.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { NimbusError } from "./errors.js";
import { apiPath, type CallOptions, type Transport } from "./transport.js";

/**
 * Addresses one file inside a sandbox.
 *
 * @example
 * const ref: FileRef = { sandboxId: id, path: "/etc/hostname" };
 */
export interface FileRef extends CallOptions {
  sandboxId: string;
  /** Absolute path inside the sandbox root. */
  path: string;
}

/**
 * Input of {@link FilesApi.write}.
 *
 * @example
 * await nimbus.files.write({ sandboxId: id, path: "/tmp/run.sh", data: Buffer.from("echo hi\n"), mode: 0o755 });
 */
export interface WriteFileInput extends FileRef {
  /** The content: bytes, a Node Readable or any async iterable of bytes. */
  data: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** Unix permission bits, sent as an octal string (`mode=755`). @default the server's (0644) */
  mode?: number;
}

/**
 * A downloaded file and the server's checksum of it.
 *
 * @example
 * const { data, sha256 } = await nimbus.files.read({ sandboxId: id, path: "/etc/hostname" });
 */
export interface FileContent {
  data: Buffer;
  /** Hex sha256 from `x-content-sha256`, verified against `data`. */
  sha256: string | undefined;
}

/**
 * Files inside sandboxes of a tenant.
 *
 * @example
 * await nimbus.files.write({ sandboxId: id, path: "/tmp/a", data: "hello" });
 * (await nimbus.files.read({ sandboxId: id, path: "/tmp/a" })).data.toString(); // "hello"
 */
export class FilesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  #path(ref: FileRef): string {
    return apiPath`/api/tenants/${this.#t.resolveTenantId(ref.tenantId)}/sandboxes/${ref.sandboxId}/files/content`;
  }

  async #get(ref: FileRef): Promise<Response> {
    const accept = "application/octet-stream";
    return this.#t.send({ method: "GET", path: this.#path(ref), query: { path: ref.path }, accept, signal: ref.signal });
  }

  /**
   * Downloads a whole file into memory and verifies its sha256.
   *
   * @example
   * const { data } = await nimbus.files.read({ sandboxId: id, path: "/app/out.json" });
   */
  async read(ref: FileRef): Promise<FileContent> {
    const res = await this.#get(ref);
    const data = Buffer.from(await res.arrayBuffer());
    const sha256 = res.headers.get("x-content-sha256") ?? undefined;
    const actual = createHash("sha256").update(data).digest("hex");
    if (sha256 !== undefined && sha256.toLowerCase() !== actual) {
      throw new NimbusError({
        code: "client.protocol",
        message: `the download of ${ref.path} does not match its sha256 (${sha256} announced, ${actual} received); read it again`,
        requestId: res.headers.get("x-request-id") ?? undefined,
        retryable: true,
      });
    }
    return { data, sha256 };
  }

  /**
   * Opens a file for streaming download. Resolves once the server accepted
   * the request (a missing file throws here).
   *
   * @example
   * (await nimbus.files.readStream({ sandboxId: id, path: "/var/log/app.log" })).pipe(process.stdout);
   */
  async readStream(ref: FileRef): Promise<Readable> {
    const res = await this.#get(ref);
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  /**
   * Uploads (creates or replaces) a file, streaming the body.
   *
   * @example
   * import { createReadStream } from "node:fs";
   * const { sha256 } = await nimbus.files.write({ sandboxId: id, path: "/data/in.bin", data: createReadStream("in.bin") });
   */
  async write(input: WriteFileInput): Promise<{ sizeBytes: number; sha256: string }> {
    return this.#t.request({
      method: "PUT",
      path: this.#path(input),
      query: { path: input.path, mode: input.mode === undefined ? undefined : input.mode.toString(8) },
      body: input.data,
      headers: { "content-type": "application/octet-stream" },
      signal: input.signal,
    });
  }
}
