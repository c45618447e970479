/**
 * The files API beyond read/write: list, stat, mkdir, remove and rename in a
 * ready sandbox's root. The tree is hostile (its processes swap directories
 * for symlinks at will), so, as for uploads (sandbox-files.ts):
 * - a path the request names is resolved by the kernel inside the root
 *   (openat2 RESOLVE_IN_ROOT from the held root fd; a symlink in it is
 *   followed, inside the root), and the final component is acted on by name
 *   relative to its directory's fd, never followed;
 * - a walk (recursive list, recursive remove) descends only by opening each
 *   child relative to its parent's fd with O_NOFOLLOW, so a directory swapped
 *   for a symlink mid-walk is refused (and, for remove, unlinked as the link
 *   it now is), never entered;
 * - walks are bounded (depth, entries); every pool step goes through the
 *   tenant's lane.
 */
import type { FileEntry } from "@nimbus/nimbus";
import type { ConfinedDir, ConfinedRoot, ConfinedStat } from "../runtime/confined-root.js";
import { AppError, invalidInput } from "./errors.js";
import { assertSandboxPath, errnoOf, resolutionError, splitTarget, writeError, type SandboxFiles } from "./sandbox-files.js";

/** Deepest recursive list a request may ask for. */
export const MAX_LIST_DEPTH = 32;
/** Most entries one list answers (it says `truncated` when there were more). */
export const MAX_LIST_ENTRIES = 10_000;
/** Deepest tree a recursive remove descends (each level holds one fd). */
export const MAX_REMOVE_DEPTH = 256;

export type FileType = ConfinedStat["type"];

/** One entry of a list or a stat: the wire type (the server never follows `linkTarget`). */
export type { FileEntry };

export interface ListResult {
  path: string;
  entries: FileEntry[];
  /** True when the entry cap cut the listing short. */
  truncated: boolean;
}

function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

export function entryOf(path: string, name: string, st: ConfinedStat): FileEntry {
  const e: FileEntry = {
    path,
    name,
    type: st.type,
    sizeBytes: st.sizeBytes,
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    mtime: new Date(st.mtimeMs).toISOString(),
  };
  if (st.linkTarget !== undefined) e.linkTarget = st.linkTarget;
  return e;
}

/** `/a//b/` → `/a/b`; `.` and `..` are refused (the kernel would confine them, but they make answers ambiguous). */
export function normalizePath(path: string, field = "path"): string {
  assertSandboxPath(path);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) throw invalidInput(`\`${field}\` must not contain . or .. components, got ${path}`, { field });
  return `/${parts.join("/")}`;
}

export class SandboxTree {
  constructor(private readonly files: SandboxFiles) {}

  private run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    return this.files.work.run(tenantId, work);
  }

  private async withRoot<T>(sandboxId: string, body: (root: ConfinedRoot) => Promise<T>): Promise<T> {
    const root = this.files.openRoot(sandboxId);
    try {
      return await body(root);
    } finally {
      root.close();
    }
  }

  /** The directory `dir` resolved inside the root, or the envelope for why not. */
  private async openDir(tenantId: string, root: ConfinedRoot, dir: string): Promise<ConfinedDir> {
    try {
      return await this.run(tenantId, () => root.openDir(dir));
    } catch (err) {
      throw resolutionError(err, dir, "directory");
    }
  }

  async stat(tenantId: string, sandboxId: string, rawPath: string): Promise<FileEntry> {
    const path = normalizePath(rawPath);
    return this.withRoot(sandboxId, async (root) => {
      try {
        const st = await this.run(tenantId, () => root.lstat(path));
        return entryOf(path, path === "/" ? "/" : path.slice(path.lastIndexOf("/") + 1), st);
      } catch (err) {
        throw resolutionError(err, path, "file");
      }
    });
  }

  /** The entries below `path` (a directory), `depth` levels down (1 = its own entries), at most `limit`. */
  async list(tenantId: string, sandboxId: string, rawPath: string, options: { depth?: number; limit?: number } = {}): Promise<ListResult> {
    const path = normalizePath(rawPath);
    const depth = Math.min(options.depth ?? 1, MAX_LIST_DEPTH);
    const limit = Math.min(options.limit ?? 1000, MAX_LIST_ENTRIES);
    const dir = await this.files.openDirectory(tenantId, sandboxId, path);
    const out: ListResult = { path, entries: [], truncated: false };
    try {
      await this.walk(tenantId, dir, path, depth, limit, out);
    } finally {
      dir.close();
    }
    return out;
  }

  private async walk(tenantId: string, dir: ConfinedDir, dirPath: string, depth: number, limit: number, out: ListResult): Promise<void> {
    const names = await this.names(tenantId, dir);
    for (const name of names) {
      if (out.entries.length >= limit) {
        out.truncated = true;
        return;
      }
      let st: ConfinedStat;
      try {
        st = await this.run(tenantId, () => dir.lstat(name));
      } catch {
        continue; // gone since readdir: the tree changes under us, list what is there
      }
      const path = joinPath(dirPath, name);
      out.entries.push(entryOf(path, name, st));
      if (st.type !== "directory" || depth <= 1) continue;
      let child: ConfinedDir;
      try {
        child = await this.run(tenantId, () => dir.openChild(name));
      } catch {
        continue; // swapped for a symlink or removed since the lstat: never followed
      }
      try {
        await this.walk(tenantId, child, path, depth - 1, limit, out);
      } finally {
        child.close();
      }
      if (out.truncated) return;
    }
  }

  private async names(tenantId: string, dir: ConfinedDir): Promise<string[]> {
    const dirents = await this.run(tenantId, () => dir.list());
    return dirents.map((d) => d.name).sort();
  }

  /** Creates the directory `path` (and, with `parents`, the missing ones above it), owned like uploads. */
  async mkdir(tenantId: string, sandboxId: string, rawPath: string, options: { parents?: boolean; mode?: number; user?: string } = {}): Promise<FileEntry> {
    const path = normalizePath(rawPath);
    if (path === "/") throw invalidInput("`path` must name a directory below /", { field: "path" });
    const mode = (options.mode ?? 0o755) & 0o777;
    const owner = await this.files.ownerFor(sandboxId, options.user);
    return this.withRoot(sandboxId, async (root) => {
      const parts = path.slice(1).split("/");
      // Without parents only the last component is created; with them, each missing one in turn.
      let start = options.parents ? 0 : parts.length - 1;
      let parent = await this.openDir(tenantId, root, `/${parts.slice(0, start).join("/")}`);
      try {
        for (; start < parts.length; start++) {
          const name = parts[start]!;
          const prefix = `/${parts.slice(0, start + 1).join("/")}`;
          const last = start === parts.length - 1;
          const existing = options.parents ? await this.run(tenantId, () => root.openDir(prefix)).catch(() => undefined) : undefined;
          let child = existing;
          if (!child) {
            child = await this.files.mkdirIn(tenantId, parent, name, mode, owner, prefix, !options.parents || last ? "strict" : "tolerant");
          }
          parent.close();
          parent = child;
        }
        const st = await this.run(tenantId, () => root.lstat(path));
        return entryOf(path, parts[parts.length - 1]!, st);
      } catch (err) {
        throw err instanceof AppError ? err : writeError(err, path);
      } finally {
        parent.close();
      }
    });
  }

  /** Removes `path`; a directory only with `recursive`. Answers how many entries went. */
  async remove(tenantId: string, sandboxId: string, rawPath: string, options: { recursive?: boolean } = {}): Promise<{ path: string; removedEntries: number }> {
    const path = normalizePath(rawPath);
    if (path === "/") throw invalidInput("refusing to remove / of a sandbox; remove its entries instead", { field: "path" });
    const { dir, name } = splitTarget(path);
    return this.withRoot(sandboxId, async (root) => {
      const parent = await this.openDir(tenantId, root, dir);
      try {
        let st: ConfinedStat;
        try {
          st = await this.run(tenantId, () => parent.lstat(name));
        } catch (err) {
          throw resolutionError(err, path, "file");
        }
        if (st.type !== "directory") {
          await this.run(tenantId, () => parent.unlink(name));
          return { path, removedEntries: 1 };
        }
        if (!options.recursive) {
          throw invalidInput(`${path} is a directory; pass recursive to remove it with its contents`, { field: "recursive" });
        }
        const removedEntries = await this.removeTree(tenantId, parent, name, path, 1);
        return { path, removedEntries };
      } catch (err) {
        if (err instanceof AppError) throw err;
        // Sandbox processes writing into the tree while it is removed.
        if (errnoOf(err) === "ENOTEMPTY")
          throw new AppError("op.conflict", `${path} gained entries while it was being removed; try again`, { detail: { path } });
        throw writeError(err, path);
      } finally {
        parent.close();
      }
    });
  }

  /** Removes `name` of `parent` (a directory, or what it was swapped for) with everything below it. */
  private async removeTree(tenantId: string, parent: ConfinedDir, name: string, path: string, level: number): Promise<number> {
    if (level > MAX_REMOVE_DEPTH) {
      throw invalidInput(`${path} is more than ${MAX_REMOVE_DEPTH} levels deep; remove its deepest part first (inside the sandbox)`, { field: "path" });
    }
    let dir: ConfinedDir;
    try {
      dir = await this.run(tenantId, () => parent.openChild(name));
    } catch (err) {
      // Swapped for a symlink or a file since the lstat: remove the name, follow nothing.
      if (errnoOf(err) === "ELOOP" || errnoOf(err) === "ENOTDIR") {
        await this.run(tenantId, () => parent.unlink(name));
        return 1;
      }
      if (errnoOf(err) === "ENOENT") return 0;
      throw err;
    }
    let removed = 0;
    try {
      for (const child of await this.names(tenantId, dir)) {
        try {
          await this.run(tenantId, () => dir.unlink(child));
          removed++;
        } catch (err) {
          if (errnoOf(err) === "EISDIR") removed += await this.removeTree(tenantId, dir, child, joinPath(path, child), level + 1);
          else if (errnoOf(err) !== "ENOENT") throw err;
        }
      }
    } finally {
      dir.close();
    }
    await this.run(tenantId, () => parent.rmdir(name));
    return removed + 1;
  }

  /** Renames `from` to `to` (replacing a file at `to`, as mv does), both resolved inside the root. */
  async rename(tenantId: string, sandboxId: string, rawFrom: string, rawTo: string): Promise<{ from: string; to: string }> {
    const from = normalizePath(rawFrom, "from");
    const to = normalizePath(rawTo, "to");
    if (from === "/" || to === "/") throw invalidInput("`from` and `to` must name entries below /", { field: from === "/" ? "from" : "to" });
    const src = splitTarget(from);
    const dst = splitTarget(to);
    return this.withRoot(sandboxId, async (root) => {
      const srcDir = await this.openDir(tenantId, root, src.dir);
      try {
        const dstDir = await this.openDir(tenantId, root, dst.dir);
        try {
          await this.run(tenantId, () => srcDir.renameTo(src.name, dstDir, dst.name));
          return { from, to };
        } finally {
          dstDir.close();
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw renameError(err, from, to);
      } finally {
        srcDir.close();
      }
    });
  }
}

function renameError(err: unknown, from: string, to: string): unknown {
  const detail = { from, to };
  switch (errnoOf(err)) {
    case "ENOENT":
      return new AppError("op.not_found", `${from} does not exist in the sandbox`, { detail });
    case "EISDIR":
    case "ENOTDIR":
    case "ENOTEMPTY":
    case "EEXIST":
      return new AppError("op.conflict", `${to} exists and cannot be replaced by ${from} (${errnoOf(err)}); remove it first`, { detail });
    case "EINVAL":
      return invalidInput(`${from} cannot be moved into itself (${to})`, { field: "to" });
    case "EXDEV":
      return invalidInput(`${from} and ${to} are on different mounts inside the sandbox; copy instead`, { field: "to" });
    default:
      return writeError(err, to);
  }
}
