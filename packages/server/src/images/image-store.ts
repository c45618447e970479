/**
 * The images module's public face: pull (deduplicated per reference),
 * resolve, list, remove, prune and load images. Everything lives under
 * `opts.root`; metadata is JSON (`index.json`), content is in the
 * content store. Pulls and garbage collection never overlap.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { ContentStore } from "./content-store.js";
import { ImageError, rethrowAbort } from "./errors.js";
import { ImageIndex, type IndexEntry } from "./image-index.js";
import { readArchive } from "./load.js";
import { resolveLimits, type ImageLimits } from "./limits.js";
import { hostArch } from "./manifest.js";
import { materialise, type BlobSource, type ImageManifestInput } from "./materialise.js";
import { formatReference, parseReference } from "./reference.js";
import { RegistryClient } from "./registry-client.js";
import { DestinationPolicy } from "./destinations.js";
import { resolveOnRegistry } from "./registry-source.js";
import type { ImageRecord, ImageStoreOptions, PruneResult, PullOptions, PullProgress } from "./types.js";

/** Mirrors and insecure registries are the operator's own choice, so they are allowed destinations. */
function destinationPolicy(opts: ImageStoreOptions): DestinationPolicy {
  const mirrors = Object.values(opts.mirrors ?? {})
    .flat()
    .map((u) => new URL(u));
  return new DestinationPolicy({
    allowPrivate: opts.registryAllowPrivate ?? false,
    allow: [...(opts.registryAllow ?? []), ...mirrors.map((u) => u.host)],
    plainHttp: [...(opts.insecureRegistries ?? []), ...mirrors.filter((u) => u.protocol === "http:").map((u) => u.host)],
  });
}

export class ImageStore {
  private readonly content: ContentStore;
  private readonly index: ImageIndex;
  private readonly client: RegistryClient;
  private readonly arch: string;
  private readonly limits: ImageLimits;
  private readonly active = new Set<Promise<unknown>>();
  private gc: Promise<unknown> | undefined;

  constructor(private readonly opts: ImageStoreOptions) {
    this.content = new ContentStore(opts.root);
    this.index = new ImageIndex(opts.root, (d) => this.content.layerDir(d));
    this.arch = opts.arch ?? hostArch();
    this.limits = resolveLimits(opts.limits);
    this.client = new RegistryClient({
      ...(opts.mirrors ? { mirrors: opts.mirrors } : {}),
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.dockerConfigPath ? { dockerConfigPath: opts.dockerConfigPath } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.registryTimeoutMs ? { timeoutMs: opts.registryTimeoutMs } : {}),
      destinations: destinationPolicy(opts),
    });
  }

  /** Creates the directories, removes partial downloads and half-unpacked layers, loads the index. */
  async init(): Promise<void> {
    const leftovers = await this.content.init();
    if (leftovers.length > 0) this.opts.log?.("info", "removed leftovers of interrupted pulls", { count: leftovers.length });
    this.index.load();
  }

  /** The operator's registry credentials (pulls without `auth` use them). */
  get operatorAuth() {
    return this.client.operator;
  }

  resolveLocal(refOrDigest: string): ImageRecord | undefined {
    return this.index.find(refOrDigest)[0]?.record;
  }

  /** Whether every layer of `record` is still unpacked here (prune has not taken it). */
  hasContent(record: ImageRecord): boolean {
    return record.layers.every((l) => existsSync(l.dir));
  }

  list(): ImageRecord[] {
    return this.index.entries().map((e) => e.record);
  }

  /** The image a pull with policy `if_missing` would use without fetching anything, if there is one. */
  present(ref: string): ImageRecord | undefined {
    const local = this.index.find(formatReference(parseReference(ref)))[0]?.record;
    return local && this.hasContent(local) ? local : undefined;
  }

  async pull(ref: string, opts: PullOptions = {}): Promise<ImageRecord> {
    const parsed = parseReference(ref);
    const reference = formatReference(parsed);
    if ((opts.policy ?? "if_missing") === "if_missing") {
      const local = this.present(reference);
      if (local) {
        opts.onProgress?.({ kind: "done", image: local });
        return local;
      }
    }
    const who = opts.auth ?? this.client.operator;
    // Shared only by pulls of the same party: another's pull proves nothing about this one's access.
    const { promise } = this.content.once(`pull:${who.scope}:${reference}`, () =>
      this.track(async () => {
        try {
          const resolved = await resolveOnRegistry(this.client, parsed, reference, this.arch, opts.signal, who);
          return await this.store(reference, resolved.digest, resolved.manifest, resolved.source, opts);
        } catch (err) {
          rethrowAbort(err, opts.signal);
        }
      }),
    );
    const record = await promise;
    opts.onProgress?.({ kind: "done", image: record });
    return record;
  }

  /** Loads every image of an OCI-layout or docker-archive tarball. */
  async load(tarPath: string): Promise<ImageRecord[]> {
    return this.track(async () => {
      const tmp = this.content.tempPath("load");
      try {
        const images = await readArchive(tarPath, tmp, this.limits);
        const out: ImageRecord[] = [];
        for (const img of images) out.push(await this.store(img.reference, img.digest, img.manifest, img.source, {}));
        return out;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }

  private async store(reference: string, digest: string, manifest: ImageManifestInput, source: BlobSource, opts: PullOptions): Promise<ImageRecord> {
    const onProgress = opts.onProgress;
    onProgress?.({ kind: "resolved", reference, digest, layers: manifest.layers.length });
    const m = await materialise(this.content, source, manifest, {
      where: reference,
      limits: this.limits,
      ...(onProgress ? { onProgress: (p: PullProgress) => onProgress(p) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(this.opts.log ? { log: this.opts.log } : {}),
    }).catch(async (err: unknown) => {
      await this.dropOrphanLayers();
      throw err;
    });
    const record: ImageRecord = {
      reference,
      digest,
      config: m.config,
      layers: m.layers,
      sizeBytes: m.layers.reduce((sum, l) => sum + l.sizeBytes, 0),
      pulledAt: new Date().toISOString(),
    };
    this.index.put({ record, blobs: m.blobs });
    this.opts.log?.("info", "image stored", { reference, digest, layers: m.layers.length });
    return record;
  }

  /** Removes image records (by reference, or every record of a digest). Content stays until prune. */
  async remove(refOrDigest: string): Promise<void> {
    const found = this.index.find(refOrDigest);
    if (found.length === 0) throw new ImageError("not_found", `no local image matches "${refOrDigest}"; list images to see what is present`);
    this.index.delete(found.map((e) => e.record.reference));
  }

  /** Removes images whose digest is not in use, then every blob and layer no remaining image needs. */
  async prune(inUse: Set<string>): Promise<PruneResult> {
    const run = (async () => {
      await Promise.allSettled([...this.active]);
      const doomed = this.index.entries().filter((e) => !inUse.has(e.record.digest));
      this.index.delete(doomed.map((e) => e.record.reference));
      return { removedImages: doomed.map((e) => e.record.reference), ...(await this.sweep()) };
    })();
    this.gc = run;
    try {
      return await run;
    } finally {
      if (this.gc === run) this.gc = undefined;
    }
  }

  /** Removes every layer and blob no image in the index needs; only while no pull or load could still be adding some. */
  private async sweep(): Promise<{ removedLayers: string[]; freedBytes: number }> {
    const keep: IndexEntry[] = this.index.entries();
    const blobs = new Set(keep.flatMap((e) => e.blobs));
    const layers = new Set(keep.flatMap((e) => e.record.layers.map((l) => l.diffId)));
    let freedBytes = 0;
    const removedLayers: string[] = [];
    for (const diffId of await this.content.listLayers()) {
      if (layers.has(diffId)) continue;
      freedBytes += await this.content.removeLayer(diffId);
      removedLayers.push(diffId);
    }
    for (const digest of await this.content.listBlobs()) {
      if (!blobs.has(digest)) freedBytes += await this.content.removeBlob(digest);
    }
    return { removedLayers, freedBytes };
  }

  /**
   * After a refused or failed pull: the layers (and blobs) it finished before
   * it failed (e.g. each under the layer limit, together over the image's)
   * belong to no image, so they go now rather than at the next prune. Only while no other
   * pull or load runs (this one is the only active work), since another's
   * layers are not in the index yet; and as a GC run, so a pull that starts
   * meanwhile waits. Otherwise they stay for prune.
   */
  private async dropOrphanLayers(): Promise<void> {
    if (this.active.size > 1 || this.gc) return;
    const run = this.sweep();
    this.gc = run;
    try {
      await run;
    } catch (err) {
      this.opts.log?.("warn", "could not remove the layers of a failed pull; prune removes them", { err: String(err) });
    } finally {
      if (this.gc === run) this.gc = undefined;
    }
  }

  /** Runs work as an active pull/load: garbage collection waits for it, and it waits for GC. */
  private async track<T>(work: () => Promise<T>): Promise<T> {
    while (this.gc) await this.gc.catch(() => undefined);
    const p = work();
    this.active.add(p);
    try {
      return await p;
    } finally {
      this.active.delete(p);
    }
  }
}
