/**
 * `nimbus.files` (ext): stream files into and out of a sandbox's root over
 * `GET|PUT /api/tenants/{t}/sandboxes/{id}/files/content?path=`. Downloads
 * are checked against the server's `x-content-sha256` header.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { NimbusError } from "./errors.js";
import { followNdjson } from "./ndjson.js";
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

/** One entry of a sandbox's file tree, as {@link FilesApi.list} and {@link FilesApi.stat} answer it (generated from the server's schema). */
import type { FileEntry } from "./wire.js";
export type { FileEntry };

/**
 * Input of {@link FilesApi.list}.
 *
 * @example
 * await nimbus.files.list({ sandboxId: id, path: "/app", depth: 3, limit: 500 });
 */
export interface ListFilesInput extends FileRef {
  /** Levels to descend; 1 lists the directory's own entries. @default 1 (server maximum 32) */
  depth?: number;
  /** Most entries to answer. @default 1000 (server maximum 10000) */
  limit?: number;
}

/**
 * The answer of {@link FilesApi.list}: entries depth first, names sorted.
 *
 * @example
 * const { entries, truncated } = await nimbus.files.list({ sandboxId: id, path: "/" });
 */
export interface FileList {
  path: string;
  entries: FileEntry[];
  /** True when `limit` cut the listing short. */
  truncated: boolean;
}

/**
 * Input of {@link FilesApi.mkdir}.
 *
 * @example
 * await nimbus.files.mkdir({ sandboxId: id, path: "/app/data/cache", parents: true });
 */
export interface MkdirInput extends FileRef {
  /** Create missing parents and accept an existing directory (mkdir -p). */
  parents?: boolean;
  /** Permission bits. @default 0o755 */
  mode?: number;
  /** Numeric `uid[:gid]` that owns what is created. @default the sandbox's process user */
  user?: string;
}

/**
 * Input of {@link FilesApi.remove}.
 *
 * @example
 * await nimbus.files.remove({ sandboxId: id, path: "/tmp/build", recursive: true });
 */
export interface RemoveFileInput extends FileRef {
  /** Remove a directory with its contents (rm -r). */
  recursive?: boolean;
}

/**
 * Input of {@link FilesApi.rename}.
 *
 * @example
 * await nimbus.files.rename({ sandboxId: id, from: "/tmp/a", to: "/tmp/b" });
 */
export interface RenameFileInput extends CallOptions {
  sandboxId: string;
  from: string;
  /** The new path; a file there is replaced, as mv does. */
  to: string;
}

/**
 * Input of {@link FilesApi.uploadArchive}.
 *
 * @example
 * import { createReadStream } from "node:fs";
 * await nimbus.files.uploadArchive({ sandboxId: id, path: "/app", data: createReadStream("app.tar") });
 */
export interface UploadArchiveInput extends FileRef {
  /** An uncompressed tar stream: files, directories and symlinks with relative names. */
  data: Uint8Array | AsyncIterable<Uint8Array>;
  /** Numeric `uid[:gid]` that owns what is extracted. @default the sandbox's process user */
  user?: string;
}

/**
 * One change {@link FilesApi.watch} yields. `overflow` means changes (or
 * directories past the watch's cap) were missed: list again to catch up.
 *
 * @example
 * const e: FileWatchEvent = { type: "create", path: "/app/new.txt", directory: false };
 */
export interface FileWatchEvent {
  type: "create" | "modify" | "write_closed" | "attrib" | "delete" | "moved_from" | "moved_to" | "overflow";
  /** Absolute path inside the sandbox. */
  path: string;
  directory: boolean;
}

/**
 * Input of {@link FilesApi.watch}.
 *
 * @example
 * nimbus.files.watch({ sandboxId: id, path: "/app", recursive: true, signal: ac.signal });
 */
export interface WatchFilesInput extends FileRef {
  /** Watch the directories below too (new ones as they appear). */
  recursive?: boolean;
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
    return this.#op(ref, "content");
  }

  #op(ref: { sandboxId: string; tenantId?: string }, op: string): string {
    return apiPath`/api/tenants/${this.#t.resolveTenantId(ref.tenantId)}/sandboxes/${ref.sandboxId}/files/${op}`;
  }

  /**
   * Lists a directory (recursively with `depth`); a symlink is reported with its target, never followed.
   *
   * @example
   * for (const e of (await nimbus.files.list({ sandboxId: id, path: "/app", depth: 2 })).entries) console.log(e.type, e.path);
   */
  list(input: ListFilesInput): Promise<FileList> {
    return this.#t.request({
      method: "GET",
      path: this.#op(input, "list"),
      query: { path: input.path, depth: input.depth, limit: input.limit },
      signal: input.signal,
    });
  }

  /**
   * What a path is (type, size, mode, owner, mtime); a final symlink is reported, not followed.
   *
   * @example
   * const { type, sizeBytes } = await nimbus.files.stat({ sandboxId: id, path: "/app/out.json" });
   */
  stat(ref: FileRef): Promise<FileEntry> {
    return this.#t.request({ method: "GET", path: this.#op(ref, "stat"), query: { path: ref.path }, signal: ref.signal });
  }

  /**
   * Creates a directory (with `parents`, like mkdir -p).
   *
   * @example
   * await nimbus.files.mkdir({ sandboxId: id, path: "/app/logs", parents: true, mode: 0o750 });
   */
  mkdir(input: MkdirInput): Promise<FileEntry> {
    const json = { path: input.path, parents: input.parents, mode: input.mode, user: input.user };
    return this.#t.request({ method: "POST", path: this.#op(input, "mkdir"), json, signal: input.signal });
  }

  /**
   * Removes a file or symlink, or a directory with `recursive`.
   *
   * @example
   * const { removedEntries } = await nimbus.files.remove({ sandboxId: id, path: "/tmp/build", recursive: true });
   */
  remove(input: RemoveFileInput): Promise<{ path: string; removedEntries: number }> {
    return this.#t.request({ method: "POST", path: this.#op(input, "remove"), json: { path: input.path, recursive: input.recursive }, signal: input.signal });
  }

  /**
   * Downloads a directory as an uncompressed tar stream (names relative to it; symlinks kept as links).
   * Resolves once the server accepted the request (a missing directory or one over the limits throws here).
   *
   * @example
   * import { createWriteStream } from "node:fs";
   * (await nimbus.files.downloadArchive({ sandboxId: id, path: "/app/out" })).pipe(createWriteStream("out.tar"));
   */
  async downloadArchive(ref: FileRef): Promise<Readable> {
    const res = await this.#t.send({
      method: "GET",
      path: this.#op(ref, "archive"),
      query: { path: ref.path },
      accept: "application/x-tar",
      signal: ref.signal,
    });
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  /**
   * Extracts a tar stream into a directory of the sandbox (created if missing).
   *
   * @example
   * import { createReadStream } from "node:fs";
   * const { entries } = await nimbus.files.uploadArchive({ sandboxId: id, path: "/app", data: createReadStream("app.tar") });
   */
  uploadArchive(input: UploadArchiveInput): Promise<{ path: string; entries: number; sizeBytes: number }> {
    return this.#t.request({
      method: "PUT",
      path: this.#op(input, "archive"),
      query: { path: input.path, user: input.user },
      body: input.data,
      headers: { "content-type": "application/x-tar" },
      signal: input.signal,
    });
  }

  /**
   * Yields each change below a directory (inotify on the server, heartbeats skipped) until the
   * directory or the sandbox goes away. Stop by leaving the loop or aborting `signal`.
   *
   * @example
   * const ac = new AbortController();
   * for await (const e of nimbus.files.watch({ sandboxId: id, path: "/app", recursive: true, signal: ac.signal })) console.log(e.type, e.path);
   */
  async *watch(input: WatchFilesInput): AsyncGenerator<FileWatchEvent, void, undefined> {
    const query = { path: input.path, recursive: input.recursive };
    const spec = { method: "GET", path: this.#op(input, "watch"), query, signal: input.signal } as const;
    for await (const line of followNdjson<FileWatchEvent | { type: "end"; reason?: string }>(this.#t, spec)) {
      if (line.type === "end") return;
      yield line;
    }
  }

  /**
   * Renames or moves an entry inside the sandbox.
   *
   * @example
   * await nimbus.files.rename({ sandboxId: id, from: "/tmp/out.part", to: "/tmp/out" });
   */
  rename(input: RenameFileInput): Promise<{ from: string; to: string }> {
    return this.#t.request({ method: "POST", path: this.#op(input, "rename"), json: { from: input.from, to: input.to }, signal: input.signal });
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
