/**
 * Safe layer extraction into a fresh directory. Paths are made relative and
 * may not contain `..`; no path is ever created through a symlink; hard links
 * must point at an entry already extracted from the same layer. Ownership,
 * modes (setuid included) and mtimes are kept numerically; device nodes and
 * fifos are skipped; OCI whiteouts become overlayfs whiteouts. Any refusal is
 * `ImageError("unsafe_layer")`; the caller removes the directory.
 * Small files are created in parallel through a bounded queue (file creation
 * dominates and scales across threads); the remaining calls are short and
 * synchronous on purpose, since a thread-pool hop per syscall cost more than
 * the call (the loop still yields between input chunks).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { constants } from "node:fs";
import { join } from "node:path";
import { ImageError } from "./errors.js";
import { decompress } from "./decompress.js";
import { readTar, type TarEntry, type TarHeader } from "./tar-reader.js";
import { writeOverlayMetadata } from "./overlay-metadata.js";
import { WriteQueue } from "./write-queue.js";
import { checkRatio, type UnpackBudget } from "./limits.js";

export interface UnpackResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: string;
  entries: number;
}

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";
/** Files up to this size are buffered and written in parallel; larger ones are streamed. */
const QUEUED_FILE_MAX = 1 << 20;
const QUEUE_DEPTH = 32;
const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function unsafe(path: string, why: string): ImageError {
  return new ImageError("unsafe_layer", `refused layer entry "${path}": ${why}; the image is malformed or hostile, do not use it`);
}

/** Normalises a tar path to a relative one ("" is the layer root). */
export function safeRelativePath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe(name, "it contains '..'");
  return parts.join("/");
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}

class Extractor {
  /** Paths we know to be real directories (not symlinks). */
  private readonly dirs = new Set<string>([""]);
  /** Every path this extraction created. */
  private readonly created = new Set<string>([""]);
  private readonly dirTimes: Array<[string, number]> = [];
  private readonly whiteouts: string[] = [];
  private readonly opaque = new Set<string>();
  private readonly queue = new WriteQueue(QUEUE_DEPTH);
  skipped = 0;
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly budget: UnpackBudget | undefined,
  ) {}

  private abs(rel: string): string {
    return rel === "" ? this.root : join(this.root, rel);
  }

  private async ensureParents(rel: string, original: string): Promise<void> {
    const parent = parentOf(rel);
    if (this.dirs.has(parent)) return;
    await this.ensureParents(parent, original);
    const st = fs.lstatSync(this.abs(parent), { throwIfNoEntry: false });
    if (st === undefined) {
      fs.mkdirSync(this.abs(parent), 0o755);
      this.created.add(parent);
    } else if (st.isSymbolicLink()) {
      throw unsafe(original, `it would be written through the symlink "${parent}"`);
    } else if (!st.isDirectory()) {
      throw unsafe(original, `its parent "${parent}" is not a directory`);
    }
    this.dirs.add(parent);
  }

  /** Clears whatever an earlier entry left at rel (keeping a directory if we want one). */
  private async clear(rel: string, keepDir: boolean): Promise<void> {
    if (!this.created.has(rel)) return;
    if (keepDir && this.dirs.has(rel)) return;
    await this.queue.drain();
    fs.rmSync(this.abs(rel), { recursive: true, force: true });
    const prefix = rel + "/";
    for (const set of [this.dirs, this.created]) {
      set.delete(rel);
      for (const p of set) if (p.startsWith(prefix)) set.delete(p);
    }
  }

  async add(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const rel = safeRelativePath(h.path);
    this.entries++;
    if (this.budget) {
      this.budget.entries.add(1);
      // Refuse a claimed size before reading it; the stored bytes are charged as they stream
      // (hashing()), and a sparse entry's holes are charged here, since they never stream.
      for (const c of this.budget.bytes) c.check(h.apparentSize);
      for (const c of this.budget.bytes) c.add(h.apparentSize - h.size);
    }
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    if (base.startsWith(WH)) return this.whiteout(rel, base, h.path);
    if (h.type === "char" || h.type === "block" || h.type === "fifo") {
      this.skipped++;
      return;
    }
    if (rel === "" && h.type !== "dir") throw unsafe(h.path, "only a directory may sit at the layer root");
    await this.ensureParents(rel, h.path);
    await this.clear(rel, h.type === "dir");
    const abs = this.abs(rel);
    switch (h.type) {
      case "dir":
        if (!this.dirs.has(rel)) fs.mkdirSync(abs, 0o700);
        this.own(abs, h, true);
        this.dirTimes.push([rel, h.mtime]);
        this.dirs.add(rel);
        break;
      case "file":
        if (h.size <= QUEUED_FILE_MAX) {
          const data: Buffer[] = [];
          for await (const chunk of entry.body()) data.push(chunk);
          await this.queue.add({ abs, flags: FILE_FLAGS, data, uid: h.uid, gid: h.gid, mode: h.mode, mtime: h.mtime });
        } else {
          await this.writeFile(abs, h, entry.body());
        }
        break;
      case "symlink":
        fs.symlinkSync(h.linkpath, abs);
        fs.lchownSync(abs, h.uid, h.gid);
        fs.lutimesSync(abs, h.mtime, h.mtime);
        break;
      case "hardlink": {
        const target = safeRelativePath(h.linkpath);
        if (!this.created.has(target) || this.dirs.has(target)) {
          throw unsafe(h.path, `its hard link target "${h.linkpath}" is not a file earlier in this layer`);
        }
        await this.queue.drain();
        fs.linkSync(this.abs(target), abs);
        break;
      }
    }
    this.created.add(rel);
  }

  private own(abs: string, h: TarHeader, isDir: boolean): void {
    fs.lchownSync(abs, h.uid, h.gid);
    // chmod after chown: chown clears setuid/setgid bits.
    fs.chmodSync(abs, h.mode);
    if (!isDir) fs.utimesSync(abs, h.mtime, h.mtime);
  }

  private async writeFile(abs: string, h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const fd = fs.openSync(abs, FILE_FLAGS, 0o600);
    try {
      for await (const chunk of body) {
        for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off);
      }
      if (h.uid !== 0 || h.gid !== 0) fs.fchownSync(fd, h.uid, h.gid);
      fs.fchmodSync(fd, h.mode);
      fs.futimesSync(fd, h.mtime, h.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  private async whiteout(rel: string, base: string, original: string): Promise<void> {
    await this.ensureParents(rel, original);
    const parent = parentOf(rel);
    if (base === OPAQUE) {
      this.opaque.add(parent);
      return;
    }
    if (base === WH) throw unsafe(original, "a whiteout must name a file");
    if (base.startsWith(WH + WH)) return; // other AUFS metadata (e.g. .wh..wh.plnk) has no overlay meaning
    const target = parent === "" ? base.slice(WH.length) : `${parent}/${base.slice(WH.length)}`;
    safeRelativePath(target);
    await this.clear(target, false);
    this.whiteouts.push(target);
    this.created.add(target);
  }

  async finish(): Promise<void> {
    await this.queue.drain();
    // A later entry may have replaced a parent with a symlink: check the chains again before tar writes.
    for (const path of this.whiteouts) await this.ensureParents(path, path);
    for (const dir of this.opaque) await this.ensureParents(dir === "" ? "x" : `${dir}/x`, dir);
    for (const dir of this.opaque) if (!this.dirs.has(dir)) this.dirTimes.push([dir, Date.now() / 1000]);
    await writeOverlayMetadata(this.root, this.whiteouts, [...this.opaque]);
    // Directory mtimes last: writing into a directory changes its mtime.
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [rel, mtime] = this.dirTimes[i]!;
      if (this.dirs.has(rel)) fs.utimesSync(this.abs(rel), mtime, mtime);
    }
  }
}

async function* hashing(source: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * Unpacks a (possibly compressed) layer stream into `dir`, which must be a
 * fresh, empty directory. Consumes the source to its end, unless a limit
 * of `budget` is passed (`ImageError("too_large")`, thrown as soon as it is).
 */
export async function unpackLayer(source: AsyncIterable<Buffer | Uint8Array>, dir: string, signal?: AbortSignal, budget?: UnpackBudget): Promise<UnpackResult> {
  const hash = createHash("sha256");
  const extractor = new Extractor(dir, budget);
  // Uncompressed bytes are charged as they leave the decompressor, before the tar reader or the disk sees them.
  const charge = budget
    ? (n: number) => {
        for (const c of budget.bytes) c.add(n);
      }
    : undefined;
  const expansion = budget?.ratio?.max ? (inBytes: number, outBytes: number) => checkRatio(budget.ratio, inBytes, outBytes) : undefined;
  for await (const entry of readTar(hashing(decompress(source, charge, expansion), hash))) {
    signal?.throwIfAborted();
    await extractor.add(entry);
  }
  await extractor.finish();
  return { diffId: `sha256:${hash.digest("hex")}`, entries: extractor.entries };
}
