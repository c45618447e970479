/**
 * A directory of a ready sandbox as a tar stream, both ways (issue 18), with
 * the confinement of the rest of the files API (sandbox-files.ts):
 * - download: the directory is resolved inside the root and walked from its
 *   fd, each child opened relative to its parent with O_NOFOLLOW (a symlink
 *   is archived as a symlink, its target as text, never followed); file
 *   bodies are opened relative to the walked directory (RESOLVE_IN_ROOT from
 *   there) as regular files only. Bounds are checked on the walk, before the
 *   first byte is sent: entries, depth and the total apparent size (the
 *   files channel's limit). A file that changes size while it is sent is cut
 *   or zero-padded to the size in its header, so the archive stays valid.
 * - upload: the target directory is created if missing; entries are
 *   relative paths without `..` (an absolute or escaping name refuses the
 *   archive), created by walking from the target with O_NOFOLLOW (an
 *   archive's own symlink is never walked through), files written as uploads
 *   are (exclusive temp file, owner, no setuid/setgid, rename), symlinks
 *   kept as plain symlinks. Hard links, devices and FIFOs are refused. The
 *   apparent sizes count against the files limit while streaming; entries
 *   written before a refusal stay (the temp file of the refused one does not).
 */
import { close, read } from "node:fs";
import { promisify } from "node:util";
import type { ConfinedDir, ConfinedStat } from "../runtime/confined-root.js";
import { readTar, type TarHeader } from "../images/tar-reader.js";
import { ImageError } from "../images/errors.js";
import { tarHeader, tarPadding, TAR_END, type TarWriteEntry } from "../images/tar-writer.js";
import { AppError, invalidInput } from "./errors.js";
import { errnoOf, writeError, type Owner, type SandboxFiles } from "./sandbox-files.js";
import { normalizePath, type SandboxTree } from "./sandbox-tree.js";

const readAsync = promisify(read);
const closeAsync = promisify(close);

/** Most entries one archive may hold, either way. */
export const MAX_ARCHIVE_ENTRIES = 100_000;
/** Deepest directory level an archive may reach, either way. */
export const MAX_ARCHIVE_DEPTH = 64;
const CHUNK_BYTES = 256 * 1024;

interface Planned {
  /** Relative to the archived directory, `/`-separated. */
  rel: string;
  st: ConfinedStat;
}

function tooLarge(what: string, detail: Record<string, unknown>): AppError {
  return new AppError("op.too_large", what, { detail });
}

export class SandboxArchive {
  constructor(
    private readonly files: SandboxFiles,
    private readonly tree: SandboxTree,
  ) {}

  private run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    return this.files.work.run(tenantId, work);
  }

  /**
   * Plans the archive of directory `rawPath` (walked and bounded now, so a
   * refusal comes before any byte); `stream()` then yields the tar bytes.
   */
  async openForDownload(tenantId: string, sandboxId: string, rawPath: string): Promise<{ path: string; stream(): AsyncIterable<Buffer>; close(): void }> {
    const path = normalizePath(rawPath);
    const top = await this.files.openDirectory(tenantId, sandboxId, path);
    try {
      const plan: Planned[] = [];
      const total = { bytes: 0 };
      await this.plan(tenantId, top, "", 1, plan, total);
      return { path, stream: () => this.emit(tenantId, top, plan), close: () => top.close() };
    } catch (err) {
      top.close();
      throw err;
    }
  }

  private async plan(tenantId: string, dir: ConfinedDir, prefix: string, level: number, plan: Planned[], total: { bytes: number }): Promise<void> {
    if (level > MAX_ARCHIVE_DEPTH)
      throw tooLarge(`the directory is more than ${MAX_ARCHIVE_DEPTH} levels deep; archive a deeper part on its own`, { maxDepth: MAX_ARCHIVE_DEPTH });
    const names = (await this.run(tenantId, () => dir.list())).map((d) => d.name).sort();
    for (const name of names) {
      let st: ConfinedStat;
      try {
        st = await this.run(tenantId, () => dir.lstat(name));
      } catch {
        continue; // gone since readdir
      }
      if (st.type !== "file" && st.type !== "directory" && st.type !== "symlink") continue; // FIFOs, sockets and devices are not archived
      const rel = prefix + name;
      plan.push({ rel, st });
      if (plan.length > MAX_ARCHIVE_ENTRIES)
        throw tooLarge(`the directory holds more than ${MAX_ARCHIVE_ENTRIES} entries; archive a part of it`, { maxEntries: MAX_ARCHIVE_ENTRIES });
      if (st.type === "file") {
        total.bytes += st.sizeBytes;
        if (total.bytes > this.files.limitBytes) {
          throw tooLarge(
            `the directory's files add up to more than the files channel's ${this.files.limitBytes}-byte limit (apparent sizes); archive a part of it`,
            {
              limitBytes: this.files.limitBytes,
            },
          );
        }
      }
      if (st.type !== "directory") continue;
      let child: ConfinedDir;
      try {
        child = await this.run(tenantId, () => dir.openChild(name));
      } catch {
        continue; // swapped for a symlink since the lstat: archived as the directory it was, empty
      }
      try {
        await this.plan(tenantId, child, `${rel}/`, level + 1, plan, total);
      } finally {
        child.close();
      }
    }
  }

  private async *emit(tenantId: string, top: ConfinedDir, plan: Planned[]): AsyncIterable<Buffer> {
    for (const { rel, st } of plan) {
      const base: TarWriteEntry = { path: rel, type: "file", mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.type === "directory") yield tarHeader({ ...base, path: `${rel}/`, type: "dir" }, 0);
      else if (st.type === "symlink") yield tarHeader({ ...base, type: "symlink", linkpath: st.linkTarget ?? "" }, 0);
      else {
        yield tarHeader(base, st.sizeBytes);
        yield* this.body(tenantId, top, rel, st.sizeBytes);
        yield tarPadding(st.sizeBytes);
      }
    }
    yield TAR_END;
  }

  /** Exactly `sizeBytes` of `rel` (cut, or padded with zeros if it shrank or is no longer a regular file). */
  private async *body(tenantId: string, top: ConfinedDir, rel: string, sizeBytes: number): AsyncIterable<Buffer> {
    const fd = await this.run(tenantId, () => top.openRegularPath(rel)).then(
      (o) => o.fd,
      () => -1,
    );
    let sent = 0;
    let eof = fd < 0;
    try {
      while (sent < sizeBytes) {
        const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, sizeBytes - sent));
        const n = eof ? 0 : (await this.run(tenantId, () => readAsync(fd, buffer, 0, buffer.length, sent))).bytesRead;
        if (n === 0) eof = true;
        const chunk = n > 0 ? buffer.subarray(0, n) : buffer;
        sent += chunk.length;
        yield chunk;
      }
    } finally {
      if (fd >= 0) await closeAsync(fd).catch(() => undefined);
    }
  }

  /** Extracts a tar stream into directory `rawPath` (created with parents if missing). */
  async extract(
    tenantId: string,
    sandboxId: string,
    rawPath: string,
    body: AsyncIterable<Buffer>,
    options: { user?: string } = {},
  ): Promise<{ path: string; entries: number; sizeBytes: number }> {
    const path = normalizePath(rawPath);
    const owner = await this.files.ownerFor(sandboxId, options.user);
    // The target directory, created (owned, like every directory the API makes) when missing.
    if (path !== "/") await this.tree.mkdir(tenantId, sandboxId, path, { parents: true, user: options.user });
    const top = await this.files.openDirectory(tenantId, sandboxId, path);
    let entries = 0;
    let sizeBytes = 0;
    try {
      for await (const entry of readTar(body)) {
        const h = entry.header;
        const parts = entryParts(h);
        if (parts.length === 0) continue; // "./" itself
        if (++entries > MAX_ARCHIVE_ENTRIES)
          throw tooLarge(`the archive holds more than ${MAX_ARCHIVE_ENTRIES} entries; send it in parts`, { maxEntries: MAX_ARCHIVE_ENTRIES });
        if (parts.length > MAX_ARCHIVE_DEPTH) throw tooLarge(`${h.path} is more than ${MAX_ARCHIVE_DEPTH} levels deep`, { maxDepth: MAX_ARCHIVE_DEPTH });
        sizeBytes += h.apparentSize;
        if (sizeBytes > this.files.limitBytes) {
          throw tooLarge(`the archive's files add up to more than the files channel's ${this.files.limitBytes}-byte limit; send it in parts`, {
            limitBytes: this.files.limitBytes,
          });
        }
        const name = parts.pop()!;
        const entryPath = `${path === "/" ? "" : path}/${[...parts, name].join("/")}`;
        const parent = await this.descend(tenantId, top, parts, owner, entryPath);
        try {
          await this.place(tenantId, parent, name, h, entry.body(), owner, entryPath);
        } finally {
          if (parent !== top) parent.close();
        }
      }
      return { path, entries, sizeBytes };
    } catch (err) {
      if (err instanceof ImageError) {
        const why = /\(([^)]*)\)/.exec(err.message)?.[1] ?? "unreadable";
        throw invalidInput(`the body is not an uncompressed tar archive (${why}); send the output of \`tar -cf - .\``, { field: "body" });
      }
      // Errno errors here are the tenant's tree changing under the extraction (a directory gone, a name swapped).
      throw err instanceof AppError ? err : writeError(err, path);
    } finally {
      top.close();
    }
  }

  /** The directory `parts` below `top`, created as needed, walked with O_NOFOLLOW (an archive's symlink is never a way through). */
  private async descend(tenantId: string, top: ConfinedDir, parts: string[], owner: Owner, entryPath: string): Promise<ConfinedDir> {
    let dir = top;
    try {
      for (const part of parts) {
        const child = await this.run(tenantId, () => dir.openChild(part)).catch(async (err: unknown) => {
          if (errnoOf(err) === "ENOENT") return this.files.mkdirIn(tenantId, dir, part, 0o755, owner, entryPath);
          if (errnoOf(err) === "ELOOP" || errnoOf(err) === "ENOTDIR") {
            throw invalidInput(
              `${entryPath} would be written through ${part}, which is not a directory (a symlink is never followed); fix the archive or the target`,
              {
                field: "body",
              },
            );
          }
          throw writeError(err, entryPath);
        });
        if (dir !== top) dir.close();
        dir = child;
      }
      return dir;
    } catch (err) {
      if (dir !== top) dir.close();
      throw err;
    }
  }

  private async place(
    tenantId: string,
    parent: ConfinedDir,
    name: string,
    h: TarHeader,
    body: AsyncIterable<Buffer>,
    owner: Owner,
    entryPath: string,
  ): Promise<void> {
    switch (h.type) {
      case "file":
        await this.files.writeInto(tenantId, parent, name, body, h.mode, owner, h.size, entryPath);
        return;
      case "dir": {
        const existing = await this.run(tenantId, () => parent.openChild(name)).catch(() => undefined);
        const dir = existing ?? (await this.files.mkdirIn(tenantId, parent, name, h.mode & 0o777, owner, entryPath));
        dir.close();
        return;
      }
      case "symlink":
        await this.run(tenantId, () => parent.unlink(name)).catch((err: unknown) => {
          if (errnoOf(err) !== "ENOENT") throw writeError(err, entryPath);
        });
        await this.run(tenantId, () => parent.symlink(h.linkpath, name)).catch((err: unknown) => {
          throw writeError(err, entryPath);
        });
        return;
      default:
        throw invalidInput(`${h.path} is a ${h.type} entry; archives may hold files, directories and symlinks only`, {
          field: "body",
          detail: { path: h.path, type: h.type },
        });
    }
  }
}

/** An entry's name as components: relative, no `..`; an absolute or escaping name refuses the whole archive. */
function entryParts(h: TarHeader): string[] {
  const raw = h.path;
  if (raw.startsWith("/") || raw.includes("\0"))
    throw invalidInput(`the archive entry ${JSON.stringify(raw)} has an absolute path; archives must hold relative paths`, { field: "body" });
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes(".."))
    throw invalidInput(`the archive entry ${JSON.stringify(raw)} contains ..; archives must stay inside their directory`, { field: "body" });
  if (parts.some((p) => Buffer.byteLength(p) > 255))
    throw invalidInput(`the archive entry ${JSON.stringify(raw)} has a component longer than 255 bytes`, { field: "body" });
  return parts;
}
