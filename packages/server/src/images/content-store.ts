/**
 * The content-addressed store under `<root>`: `blobs/sha256/<hex>` (verified
 * before they are renamed into place), `layers/<diffid-hex>/` (unpacked
 * before they are renamed into place) and `tmp/` for everything in flight,
 * which `init()` empties, so a killed process leaves nothing trusted behind.
 * In-flight work is shared: one download or unpack per key at a time.
 */
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../host/private-fs.js";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ImageError } from "./errors.js";
import { sha256 } from "./manifest.js";

function hex(digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new ImageError("unsupported", `"${digest}" is not a sha256 digest`);
  return digest.slice("sha256:".length);
}

function mismatch(digest: string, actual: string, size: number, source: string): ImageError {
  return new ImageError(
    "digest_mismatch",
    `content from ${source} does not match its digest: expected ${digest}, got ${actual} (${size} bytes); the data was corrupted or tampered with, retry or check the registry`,
  );
}

/** A blob being written to a temp file and hashed; `commit()` verifies and renames. */
export class BlobWriter {
  private readonly hash = createHash("sha256");
  bytes = 0;

  constructor(
    private readonly store: ContentStore,
    readonly digest: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly source: string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    await this.fh.write(chunk);
  }

  /** Closes the file and checks the digest (removing the file on mismatch). */
  async verify(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    const actual = `sha256:${this.hash.digest("hex")}`;
    if (actual !== this.digest) {
      await rm(this.tmp, { force: true });
      throw mismatch(this.digest, actual, this.bytes, this.source);
    }
  }

  async commit(): Promise<void> {
    await this.verify();
    await rename(this.tmp, this.store.blobPath(this.digest));
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

export class ContentStore {
  readonly blobsDir: string;
  readonly layersDir: string;
  readonly tmpDir: string;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {
    this.blobsDir = join(root, "blobs", "sha256");
    this.layersDir = join(root, "layers");
    this.tmpDir = join(root, "tmp");
  }

  /** Creates the directories and removes whatever an interrupted run left in `tmp/`. */
  async init(): Promise<string[]> {
    // 0700: layers hold image files as the image made them, setuid-root binaries included.
    for (const dir of [this.root, join(this.root, "blobs"), this.blobsDir, this.layersDir, this.tmpDir]) await ensurePrivateDir(dir);
    const leftovers = await readdir(this.tmpDir);
    await Promise.all(leftovers.map((name) => rm(join(this.tmpDir, name), { recursive: true, force: true })));
    return leftovers;
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, hex(digest));
  }

  layerDir(diffId: string): string {
    return join(this.layersDir, hex(diffId));
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  hasLayer(diffId: string): boolean {
    return existsSync(this.layerDir(diffId));
  }

  async readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /** Stores small content (manifests, configs) after checking its digest. */
  async putBlob(digest: string, bytes: Buffer, source: string): Promise<void> {
    if (this.hasBlob(digest)) return;
    const actual = sha256(bytes);
    if (actual !== digest) throw mismatch(digest, actual, bytes.length, source);
    const w = await this.openBlob(digest, source);
    try {
      await w.write(bytes);
    } catch (err) {
      await w.abort();
      throw err;
    }
    await w.commit();
  }

  async openBlob(digest: string, source: string): Promise<BlobWriter> {
    const tmp = this.tempPath(`blob-${hex(digest).slice(0, 12)}`);
    return new BlobWriter(this, digest, tmp, await open(tmp, "wx", PRIVATE_FILE_MODE), source);
  }

  /** A fresh path under tmp/ (nothing is created). */
  tempPath(prefix: string): string {
    return join(this.tmpDir, `${prefix}-${randomBytes(6).toString("hex")}`);
  }

  /** Moves a finished temp layer into place (another worker may have won the race). */
  async commitLayer(tmpDir: string, diffId: string): Promise<void> {
    const dest = this.layerDir(diffId);
    if (existsSync(dest)) return rm(tmpDir, { recursive: true, force: true });
    await rename(tmpDir, dest);
  }

  /** Shares one in-flight promise per key between concurrent callers. */
  once<T>(key: string, work: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const existing = this.inflight.get(key) as Promise<T> | undefined;
    if (existing) return { promise: existing, leader: false };
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return { promise, leader: true };
  }

  async listBlobs(): Promise<string[]> {
    return (await readdir(this.blobsDir)).map((h) => `sha256:${h}`);
  }

  async listLayers(): Promise<string[]> {
    return (await readdir(this.layersDir)).map((h) => `sha256:${h}`);
  }

  /** Removes a blob; returns the bytes freed. */
  async removeBlob(digest: string): Promise<number> {
    const size = (await stat(this.blobPath(digest)).catch(() => undefined))?.size ?? 0;
    await rm(this.blobPath(digest), { force: true });
    return size;
  }

  /** Removes a layer dir (renamed away first, so a crash never leaves half a layer in place); returns bytes freed. */
  async removeLayer(diffId: string): Promise<number> {
    const dir = this.layerDir(diffId);
    if (!existsSync(dir)) return 0;
    const doomed = this.tempPath("gone");
    await rename(dir, doomed);
    const size = await duBytes(doomed);
    await rm(doomed, { recursive: true, force: true });
    return size;
  }
}

/** Apparent size of a tree, counting each inode once. */
export async function duBytes(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = await stat(p).catch(() => undefined);
      if (e.isDirectory()) await walk(p);
      else if (st && e.isFile() && !seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
