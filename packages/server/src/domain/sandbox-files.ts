/**
 * The files channel: stream a file out of or into a running sandbox's root,
 * checksummed and size-limited, with every path confined to that root
 * (confined-path.ts). Uploads land in a temp file beside the target and are
 * renamed into place only when complete, so a failed upload changes nothing.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { AppError, invalidInput } from "./errors.js";
import { assertFdInRoot, resolveInRoot } from "./confined-path.js";

export const DEFAULT_UPLOAD_LIMIT_BYTES = 1024 * 1024 * 1024;

function notFoundPath(path: string, what = "file"): AppError {
  return new AppError("op.not_found", `${what} ${path} does not exist in the sandbox`, { detail: { path } });
}

export interface OpenedFile {
  sizeBytes: number;
  sha256: string;
  stream(): AsyncIterable<Buffer>;
  close(): Promise<void>;
}

/** Opens a regular file for download; the sha256 is computed before the bytes are sent. */
export async function openForRead(root: string, path: string): Promise<OpenedFile> {
  const host = resolveInRoot(root, path);
  let fh;
  try {
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw notFoundPath(path);
    if (code === "ELOOP") throw invalidInput(`${path} is a symbolic link that could not be resolved inside the sandbox`, { field: "path" });
    throw err;
  }
  try {
    await assertFdInRoot(fh.fd, root, path);
    const st = await fh.stat();
    if (!st.isFile()) throw invalidInput(`${path} is not a regular file`, { field: "path" });
    const hash = createHash("sha256");
    for await (const chunk of fh.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
    const sha256 = hash.digest("hex");
    const handle = fh;
    return {
      sizeBytes: st.size,
      sha256,
      stream: () => handle.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Buffer>,
      close: () => handle.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

export interface WriteResult {
  path: string;
  sizeBytes: number;
  sha256: string;
}

/** Streams `body` into `path` (mode `mode`), replacing it atomically. */
export async function writeFromStream(root: string, path: string, body: Readable, options: { mode?: number; limitBytes?: number } = {}): Promise<WriteResult> {
  const limit = options.limitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
  const target = resolveInRoot(root, path, false);
  const dir = dirname(target);
  try {
    if (!(await stat(dir)).isDirectory()) throw notFoundPath(dirname(path), "directory");
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw notFoundPath(dirname(path), "directory");
  }
  const tmp = join(dir, `.nimbus-upload-${basename(target).slice(0, 64)}-${randomBytes(6).toString("hex")}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode ?? 0o644);
  let done = false;
  try {
    await assertFdInRoot(fh.fd, root, path);
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        body.resume();
        throw new AppError("op.payload_too_large", `the upload is larger than the ${limit}-byte limit of the files channel`, { detail: { limitBytes: limit } });
      }
      hash.update(chunk);
      await fh.write(chunk);
    }
    await fh.chmod(options.mode ?? 0o644);
    await fh.sync();
    await fh.close();
    done = true;
    // The directory was checked at open; re-check the final name's parent before the rename.
    const again = resolveInRoot(root, path, false);
    if (again !== target) throw invalidInput(`${path} changed while it was being written; try again`, { field: "path" });
    await rename(tmp, target);
    return { path, sizeBytes: size, sha256: hash.digest("hex") };
  } catch (err) {
    if (!done) await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === "EISDIR") throw invalidInput(`${path} is a directory`, { field: "path" });
    throw err;
  }
}
