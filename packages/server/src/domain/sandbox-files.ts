/**
 * The files channel: stream a file out of or into a running sandbox's root,
 * checksummed and size-limited. The sandbox's tree is hostile (its processes
 * can swap any directory for a symlink at any moment), so every path is
 * resolved by the kernel inside the root (runtime/confined-root.ts, openat2
 * RESOLVE_IN_ROOT), never by host path:
 * - downloads serve regular files only, opened non-blocking after an O_PATH
 *   fstat (a FIFO, socket or device is never opened), and refuse a file whose
 *   apparent size is over the limit before reading a byte;
 * - uploads open the target's directory once, create the temp file in it
 *   exclusively, owned by the sandbox's process user and never setuid/setgid,
 *   and rename it into place relative to that same directory fd, so a failed
 *   upload changes nothing and a raced one lands inside the sandbox or nowhere.
 * Every thread-pool step goes through the tenant's lane (tenant-work.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import { close, fchmod, fchown, fsync, read, write } from "node:fs";
import { promisify } from "node:util";
import type { Readable } from "node:stream";
import type { RuntimeBackend } from "../runtime/backend.js";
import { ConfinedRoot, type ConfinedDir } from "../runtime/confined-root.js";
import { AppError, invalidInput } from "./errors.js";
import { TenantWorkLimiter } from "./tenant-work.js";

/** The default files-channel transfer limit, each way. */
export const DEFAULT_FILES_LIMIT_BYTES = 1024 * 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;
const SPECIAL_BITS = 0o7000;

const readAsync = promisify(read);
const writeAsync = promisify(write);
const closeAsync = promisify(close);
const fchownAsync = promisify(fchown);
const fchmodAsync = promisify(fchmod);
const fsyncAsync = promisify(fsync);

export interface OpenedFile {
  sizeBytes: number;
  sha256: string;
  stream(): AsyncIterable<Buffer>;
  close(): Promise<void>;
}

export interface WriteResult {
  path: string;
  sizeBytes: number;
  sha256: string;
}

export interface SandboxFilesDeps {
  runtime: RuntimeBackend;
  /** Largest file a download serves or an upload accepts. @default 1 GiB */
  limitBytes?: number;
  /** Shared thread-pool work per tenant. */
  work?: TenantWorkLimiter;
}

export function assertSandboxPath(path: string): void {
  if (!path.startsWith("/") || path.includes("\0") || path.length > 4096) {
    throw invalidInput("`path` must be an absolute path inside the sandbox (e.g. /tmp/file), without NUL bytes", { field: "path" });
  }
}

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** What a failed resolution means to the caller; other errors are rethrown as they are. */
export function resolutionError(err: unknown, path: string, what: string): unknown {
  switch (errnoOf(err)) {
    case "ENOENT":
    case "ENOTDIR":
      return new AppError("op.not_found", `${what} ${path} does not exist in the sandbox`, { detail: { path } });
    case "ELOOP":
      return invalidInput(`${path} has too many levels of symbolic links inside the sandbox`, { field: "path" });
    case "EXDEV":
      return invalidInput(`${path} crosses a mount point inside the sandbox; the files channel only reaches the sandbox's own filesystem`, { field: "path" });
    case "ENAMETOOLONG":
      return invalidInput(`${path} has a component longer than 255 bytes`, { field: "path" });
    case "EACCES":
    case "EPERM":
      return invalidInput(`${path} cannot be reached in the sandbox (${errnoOf(err)})`, { field: "path" });
    default:
      return err;
  }
}

/** Errors of the write side that the tenant's own tree explains (its races, its full disk). */
export function writeError(err: unknown, path: string): unknown {
  switch (errnoOf(err)) {
    case "ENOENT":
    case "ESTALE":
      return new AppError("op.conflict", `${path} or its directory changed in the sandbox while it was being written; try again`, { detail: { path } });
    case "EISDIR":
    case "ENOTEMPTY":
    case "EEXIST":
      return invalidInput(`${path} is a directory in the sandbox; upload to a file path`, { field: "path" });
    case "ENOTDIR":
      return new AppError("op.not_found", `the directory of ${path} does not exist in the sandbox`, { detail: { path } });
    case "ENOSPC":
    case "EDQUOT":
      return new AppError("service.insufficient_storage", `no space left in the sandbox for ${path}; free some and try again`, { detail: { path } });
    case "EROFS":
    case "EBUSY":
    case "ETXTBSY":
    case "EMLINK":
      return new AppError("op.conflict", `${path} cannot be replaced right now (${errnoOf(err)}); try again`, { detail: { path } });
    default:
      return resolutionError(err, path, "directory of");
  }
}

/** The largest id chown(2) takes; 4294967295 is (uid_t)-1, "leave unchanged". */
const MAX_ID = 4294967294;

/** `uid[:gid]` (numeric; gid 0 when omitted, as for exec) with both ids in 0..4294967294. */
export function parseOwner(user: string): { uid: number; gid: number } {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  const uid = m ? Number(m[1]) : NaN;
  const gid = m ? Number(m[2] ?? 0) : NaN;
  if (!(uid <= MAX_ID) || !(gid <= MAX_ID)) {
    throw invalidInput(`\`user\` must be a numeric uid[:gid] with ids from 0 to ${MAX_ID}, got \`${user}\``, { field: "user" });
  }
  return { uid, gid };
}

/** `/a/b/c` → `/a/b` and `c`; the name must be a real component. */
export function splitTarget(path: string): { dir: string; name: string } {
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  const name = trimmed.slice(slash + 1);
  if (name === "" || name === "." || name === "..") throw invalidInput(`${path} does not name a file; upload to a path like /tmp/file`, { field: "path" });
  return { dir: trimmed.slice(0, slash) || "/", name };
}

export interface Owner {
  uid: number;
  gid: number;
}

export class SandboxFiles {
  readonly limitBytes: number;
  /** The tenant lanes every thread-pool step of the files API goes through (tree and archive ops too). */
  readonly work: TenantWorkLimiter;

  constructor(private readonly deps: SandboxFilesDeps) {
    this.limitBytes = deps.limitBytes ?? DEFAULT_FILES_LIMIT_BYTES;
    this.work = deps.work ?? new TenantWorkLimiter();
  }

  /** Who owns what the API creates: the `user` the request names, else the sandbox's process user. */
  async ownerFor(sandboxId: string, user: string | undefined): Promise<Owner> {
    return user !== undefined ? parseOwner(user) : ((await this.deps.runtime.processUser(sandboxId)) ?? { uid: 0, gid: 0 });
  }

  openRoot(sandboxId: string): ConfinedRoot {
    try {
      return ConfinedRoot.open(this.deps.runtime.rootfsPath(sandboxId));
    } catch (err) {
      throw new AppError("op.conflict", `sandbox \`${sandboxId}\` has no mounted root filesystem right now; wait until it is ready`, { cause: err });
    }
  }

  /** The directory `path` of the sandbox, resolved inside its root and held open; the envelope when it cannot be. */
  async openDirectory(tenantId: string, sandboxId: string, path: string): Promise<ConfinedDir> {
    return this.resolveInRoot(tenantId, sandboxId, path, "directory", (root) => root.openDir(path));
  }

  /** `open` run on the sandbox's root (held only for the call) in the tenant's work pool; a failure to resolve `path` becomes its envelope. */
  private async resolveInRoot<T>(tenantId: string, sandboxId: string, path: string, what: string, open: (root: ConfinedRoot) => Promise<T>): Promise<T> {
    const root = this.openRoot(sandboxId);
    try {
      return await this.work.run(tenantId, () => open(root));
    } catch (err) {
      throw resolutionError(err, path, what);
    } finally {
      root.close();
    }
  }

  /** Opens a regular file for download; the sha256 is computed (in 256 KiB pool reads) before the bytes are sent. */
  async openForRead(tenantId: string, sandboxId: string, path: string): Promise<OpenedFile> {
    assertSandboxPath(path);
    const opened = await this.resolveInRoot(tenantId, sandboxId, path, "file", (root) => root.openRegular(path));
    if (opened.fd < 0) {
      throw new AppError("op.not_a_regular_file", `${path} is a ${opened.type}, not a regular file; the files channel reads and writes regular files only`, {
        detail: { path, type: opened.type },
      });
    }
    const { fd, sizeBytes } = opened;
    let closed = false;
    const closeFd = async () => {
      if (closed) return;
      closed = true;
      await closeAsync(fd);
    };
    try {
      if (sizeBytes > this.limitBytes) {
        throw new AppError(
          "op.too_large",
          `${path} is ${sizeBytes} bytes (apparent size), over the files channel's ${this.limitBytes}-byte limit; split or compress it inside the sandbox first`,
          {
            detail: { path, sizeBytes, limitBytes: this.limitBytes },
          },
        );
      }
      const hash = createHash("sha256");
      for await (const chunk of this.chunks(tenantId, fd, sizeBytes)) hash.update(chunk);
      return { sizeBytes, sha256: hash.digest("hex"), stream: () => this.chunks(tenantId, fd, sizeBytes), close: closeFd };
    } catch (err) {
      await closeFd();
      throw err;
    }
  }

  /** The first `sizeBytes` of `fd`, one pool read per chunk (fewer if the file shrank). */
  private async *chunks(tenantId: string, fd: number, sizeBytes: number): AsyncIterable<Buffer> {
    let position = 0;
    while (position < sizeBytes) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, sizeBytes - position));
      const { bytesRead } = await this.work.run(tenantId, () => readAsync(fd, buffer, 0, buffer.length, position));
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  }

  /**
   * Streams `body` into `path`, replacing it atomically. The file belongs to
   * the sandbox's process user; `mode` loses setuid, setgid and sticky bits.
   */
  async writeFromStream(
    tenantId: string,
    sandboxId: string,
    path: string,
    body: Readable,
    options: { mode?: number; user?: string; announcedBytes?: number } = {},
  ): Promise<WriteResult> {
    assertSandboxPath(path);
    // A Content-Length over the limit is refused before a byte is read (or a temp file made).
    if (options.announcedBytes !== undefined && options.announcedBytes > this.limitBytes) throw uploadTooLarge(this.limitBytes);
    const { dir, name } = splitTarget(path);
    const mode = (options.mode ?? 0o644) & ~SPECIAL_BITS & 0o777;
    const owner = await this.ownerFor(sandboxId, options.user);
    const parent = await this.openDirectory(tenantId, sandboxId, dir);
    try {
      const r = await this.writeInto(tenantId, parent, name, body as AsyncIterable<Buffer>, mode, owner, this.limitBytes, path);
      return { path, ...r };
    } finally {
      parent.close();
    }
  }

  /**
   * Writes `body` into `name` of the (confined) directory `parent`: an
   * exclusive temp file owned by `owner`, `mode` without special bits, fsync,
   * and a rename of single components relative to that directory fd. At most
   * `limitBytes`; on failure the temp file is removed and `name` is untouched.
   */
  async writeInto(
    tenantId: string,
    parent: ConfinedDir,
    name: string,
    body: AsyncIterable<Buffer>,
    mode: number,
    owner: Owner,
    limitBytes: number,
    path: string,
  ): Promise<{ sizeBytes: number; sha256: string }> {
    const tmp = `.nimbus-upload-${randomBytes(8).toString("hex")}`;
    let fd = -1;
    try {
      fd = await this.work.run(tenantId, () => parent.createExclusive(tmp, 0o600));
      const file = fd;
      await this.work.run(tenantId, () => fchownAsync(file, owner.uid, owner.gid));
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of body) {
        size += chunk.length;
        if (size > limitBytes) throw uploadTooLarge(limitBytes);
        hash.update(chunk);
        await this.writeAll(tenantId, file, chunk);
      }
      await this.work.run(tenantId, () => fchmodAsync(file, mode & ~SPECIAL_BITS & 0o777));
      await this.work.run(tenantId, () => fsyncAsync(file));
      fd = -1;
      await closeAsync(file);
      // Both names are single components of the directory resolved by the caller.
      await this.work.run(tenantId, () => parent.rename(tmp, name));
      return { sizeBytes: size, sha256: hash.digest("hex") };
    } catch (err) {
      if (fd >= 0) await closeAsync(fd).catch(() => undefined);
      await parent.unlink(tmp).catch(() => undefined);
      if (err instanceof AppError) throw err;
      throw writeError(err, path);
    }
  }

  /**
   * Creates directory `name` of `parent` (an existing one is fine unless `strict`), owned by
   * `owner` with exactly `mode` (the server's umask must not decide it), and holds it open.
   * The new directory is reopened by name with O_NOFOLLOW: a symlink swapped in is refused.
   */
  async mkdirIn(
    tenantId: string,
    parent: ConfinedDir,
    name: string,
    mode: number,
    owner: Owner,
    path: string,
    onExists: "strict" | "tolerant" = "tolerant",
  ): Promise<ConfinedDir> {
    try {
      await this.work.run(tenantId, () => parent.mkdir(name, 0o700));
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw err;
      if (onExists === "strict") throw new AppError("op.already_exists", `${path} already exists in the sandbox`, { detail: { path } });
    }
    const child = await this.work
      .run(tenantId, () => parent.openChild(name))
      .catch((err: unknown) => {
        throw errnoOf(err) === "ELOOP" || errnoOf(err) === "ENOTDIR"
          ? new AppError("op.conflict", `${path} exists and is not a directory`, { detail: { path } })
          : err;
      });
    try {
      const fd = await this.work.run(tenantId, () => child.openForMetadata());
      try {
        await this.work.run(tenantId, () => fchownAsync(fd, owner.uid, owner.gid));
        await this.work.run(tenantId, () => fchmodAsync(fd, mode));
      } finally {
        await closeAsync(fd);
      }
      return child;
    } catch (err) {
      child.close();
      throw err;
    }
  }

  private async writeAll(tenantId: string, fd: number, chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.work.run(tenantId, () => writeAsync(fd, chunk, offset, chunk.length - offset));
      offset += bytesWritten;
    }
  }
}

function uploadTooLarge(limitBytes: number): AppError {
  return new AppError("op.payload_too_large", `the upload is larger than the ${limitBytes}-byte limit of the files channel`, { detail: { limitBytes } });
}
