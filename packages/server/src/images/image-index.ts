/**
 * The local image index: `<root>/index.json`, one entry per reference with
 * the blobs it needs. Held in memory (lookups are map reads) and rewritten
 * atomically (temp file + fsync + rename) on every change.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { formatReference, isDigest, parseReference, type ImageReference } from "./reference.js";
import type { ImageRecord } from "./types.js";

export interface IndexEntry {
  record: ImageRecord;
  /** Every blob digest the image needs (index, manifest, config, layers). */
  blobs: string[];
}

interface IndexFile {
  version: 1;
  images: IndexEntry[];
}

function repositoryOf(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

export class ImageIndex {
  private readonly byRef = new Map<string, IndexEntry>();
  private readonly path: string;

  constructor(
    root: string,
    private readonly layerDir: (diffId: string) => string,
  ) {
    this.path = join(root, "index.json");
  }

  load(): void {
    this.byRef.clear();
    if (!existsSync(this.path)) return;
    const file = JSON.parse(readFileSync(this.path, "utf8")) as IndexFile;
    for (const entry of file.images ?? []) {
      // Layer paths follow the store's root, wherever it now lives.
      for (const layer of entry.record.layers) layer.dir = this.layerDir(layer.diffId);
      this.byRef.set(entry.record.reference, entry);
    }
  }

  private save(): void {
    const file: IndexFile = { version: 1, images: [...this.byRef.values()] };
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(file, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  put(entry: IndexEntry): void {
    this.byRef.set(entry.record.reference, entry);
    this.save();
  }

  entries(): IndexEntry[] {
    return [...this.byRef.values()];
  }

  /** Finds by reference (any spelling), by `sha256:…` digest, or by `name@digest`. */
  find(refOrDigest: string): IndexEntry[] {
    if (isDigest(refOrDigest)) return this.entries().filter((e) => e.record.digest === refOrDigest);
    let ref: ImageReference;
    try {
      ref = parseReference(refOrDigest);
    } catch {
      return [];
    }
    const exact = this.byRef.get(formatReference(ref));
    if (exact) return [exact];
    if (ref.digest === undefined) return [];
    const name = repositoryOf(ref);
    return this.entries().filter((e) => e.record.digest === ref.digest && repositoryOf(parseReference(e.record.reference)) === name);
  }

  delete(refs: string[]): void {
    for (const r of refs) this.byRef.delete(r);
    this.save();
  }
}
