/**
 * `sandbox.files`: the sandbox's files by absolute path inside it, over the
 * files routes (docs/files.md). Directories move as uncompressed tar, to
 * and from a local `.tar` file or a stream.
 */
import { createReadStream, createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FileEntry, FilesApi, FileWatchEvent } from "../files.js";

type Signal = { signal?: AbortSignal };

/**
 * The sandbox's files.
 *
 * @example
 * await sb.files.write("/app/main.py", "print('hi')\n");
 * const text = await sb.files.read("/app/main.py");
 */
export class SandboxFiles {
  readonly #files: FilesApi;
  readonly #id: string;
  readonly #tenantId: string | undefined;

  constructor(files: FilesApi, id: string, tenantId: string | undefined) {
    this.#files = files;
    this.#id = id;
    this.#tenantId = tenantId;
  }

  #ref(path: string, signal?: AbortSignal) {
    return { sandboxId: this.#id, tenantId: this.#tenantId, path, signal };
  }

  /** The file as UTF-8 text, or as bytes with `{ format: "bytes" }`. */
  async read(path: string, options?: { format?: "text"; signal?: AbortSignal }): Promise<string>;
  async read(path: string, options: { format: "bytes"; signal?: AbortSignal }): Promise<Buffer>;
  async read(path: string, options: { format?: "text" | "bytes"; signal?: AbortSignal } = {}): Promise<string | Buffer> {
    const { data } = await this.#files.read(this.#ref(path, options.signal));
    return options.format === "bytes" ? data : data.toString("utf8");
  }

  /** Creates or replaces the file (owned by the sandbox's user). */
  async write(path: string, data: string | Uint8Array, options: { mode?: number } & Signal = {}): Promise<{ sizeBytes: number; sha256: string }> {
    return this.#files.write({ ...this.#ref(path, options.signal), data: typeof data === "string" ? Buffer.from(data) : data, mode: options.mode });
  }

  /**
   * A directory's entries (with `depth`, the levels below too, depth first).
   *
   * @example
   * for (const e of await sb.files.list("/app", { depth: 2 })) console.log(e.type, e.path, e.sizeBytes);
   */
  async list(path: string, options: { depth?: number; limit?: number } & Signal = {}): Promise<FileEntry[]> {
    return (await this.#files.list({ ...this.#ref(path, options.signal), depth: options.depth, limit: options.limit })).entries;
  }

  /** What a path is: type, size, mode, owner, mtime (a symlink is not followed). */
  stat(path: string, options: Signal = {}): Promise<FileEntry> {
    return this.#files.stat(this.#ref(path, options.signal));
  }

  /** True when the path exists (a dangling symlink counts). */
  async exists(path: string, options: Signal = {}): Promise<boolean> {
    return this.stat(path, options).then(
      () => true,
      (err: unknown) => {
        if (err instanceof Error && "status" in err && err.status === 404) return false;
        throw err;
      },
    );
  }

  /** Creates a directory and its missing parents (mkdir -p; an existing one is fine). */
  mkdir(path: string, options: { mode?: number } & Signal = {}): Promise<FileEntry> {
    return this.#files.mkdir({ ...this.#ref(path, options.signal), parents: true, mode: options.mode });
  }

  /** Removes a file or symlink, or a directory with `recursive` (rm -r). */
  async remove(path: string, options: { recursive?: boolean } & Signal = {}): Promise<number> {
    return (await this.#files.remove({ ...this.#ref(path, options.signal), recursive: options.recursive })).removedEntries;
  }

  /** Renames or moves an entry (a file at `to` is replaced, as mv does). */
  async rename(from: string, to: string, options: Signal = {}): Promise<void> {
    await this.#files.rename({ sandboxId: this.#id, tenantId: this.#tenantId, from, to, signal: options.signal });
  }

  /**
   * Each change below a directory until `signal` aborts, the loop is left, or
   * the directory goes away. An `overflow` event means changes were missed.
   *
   * @example
   * const ac = new AbortController();
   * for await (const e of sb.files.watch("/app", { recursive: true, signal: ac.signal })) console.log(e.type, e.path);
   */
  watch(path: string, options: { recursive?: boolean } & Signal = {}): AsyncGenerator<FileWatchEvent, void, undefined> {
    return this.#files.watch({ ...this.#ref(path, options.signal), recursive: options.recursive });
  }

  /**
   * Extracts a tar (uncompressed) into a directory of the sandbox, created if
   * missing: `source` is a local `.tar` file's path, bytes or a stream.
   *
   * @example
   * await sb.files.upload("./project.tar", "/app");
   */
  async upload(source: string | Uint8Array | AsyncIterable<Uint8Array>, path: string, options: Signal = {}): Promise<{ entries: number; sizeBytes: number }> {
    const data = typeof source === "string" ? createReadStream(source) : source;
    const { entries, sizeBytes } = await this.#files.uploadArchive({ ...this.#ref(path, options.signal), data });
    return { entries, sizeBytes };
  }

  /**
   * A directory of the sandbox as a tar stream (names relative to it), or,
   * with `to`, written to that local file.
   *
   * @example
   * await sb.files.download("/app/out", { to: "./out.tar" });
   * (await sb.files.download("/app/out")).pipe(process.stdout);
   */
  async download(path: string, options?: Signal & { to?: undefined }): Promise<Readable>;
  async download(path: string, options: Signal & { to: string }): Promise<void>;
  async download(path: string, options: Signal & { to?: string } = {}): Promise<Readable | void> {
    const tar = await this.#files.downloadArchive(this.#ref(path, options.signal));
    if (options.to === undefined) return tar;
    await pipeline(tar, createWriteStream(options.to));
  }
}
