/**
 * Turns a resolved image manifest into verified local content: stores the
 * manifest, fetches and checks the config, and downloads + unpacks each
 * layer once (download, digest check and unpack run as one stream; the blob
 * and the layer directory are renamed into place only after both the blob
 * digest and the diff id check out). Used by registry pulls and by `load`.
 */
import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { ImageError } from "./errors.js";
import { parseImageConfig, type Descriptor } from "./manifest.js";
import { unpackLayer } from "./unpack.js";
import { DEFAULT_IMAGE_LIMITS, LimitCounter, type ImageLimits } from "./limits.js";
import type { ContentStore } from "./content-store.js";
import type { ImageConfig, ImageLayer, Logger, PullProgress } from "./types.js";

/** Where blob bytes come from: a registry endpoint or files of a loaded archive. */
export interface BlobSource {
  /** Named in errors, e.g. `registry 127.0.0.1:5000`. */
  describe: string;
  open(desc: Descriptor, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

export interface ImageManifestInput {
  digest: string;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  /** Verified index the manifest was selected from, if any. */
  index?: { digest: string; bytes: Buffer };
}

export interface Materialised {
  config: ImageConfig;
  layers: ImageLayer[];
  /** Every blob the image needs: index, manifest, config, layers. */
  blobs: string[];
}

export interface MaterialiseOptions {
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  log?: Logger;
  where: string;
  /** @default DEFAULT_IMAGE_LIMITS */
  limits?: ImageLimits;
}

const MAX_CONFIG_BYTES = 8 << 20;
const PROGRESS_INTERVAL_MS = 100;
const LAYER_CONCURRENCY = 4;

async function readSmallBlob(content: ContentStore, source: BlobSource, desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
  if (content.hasBlob(desc.digest)) return content.readBlob(desc.digest);
  if (desc.size > MAX_CONFIG_BYTES) throw new ImageError("unsupported", `the image config ${desc.digest} is larger than 8 MiB`);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of await source.open(desc, signal)) {
    total += chunk.length;
    if (total > MAX_CONFIG_BYTES) throw new ImageError("digest_mismatch", `${source.describe} sent more than 8 MiB for config ${desc.digest}`);
    parts.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(parts);
  await content.putBlob(desc.digest, bytes, source.describe);
  return bytes;
}

/** Downloads (if needed) and unpacks (if needed) one layer; returns whether anything was fetched. */
async function ensureLayer(
  content: ContentStore,
  source: BlobSource,
  desc: Descriptor,
  diffId: string,
  opts: MaterialiseOptions,
  imageBytes: LimitCounter,
): Promise<void> {
  const haveBlob = content.hasBlob(desc.digest);
  const needUnpack = !content.hasLayer(diffId);
  if (haveBlob && !needUnpack) return;
  let received = 0;
  let lastReport = 0;
  const report = (done: boolean) =>
    opts.onProgress?.({ kind: "layer", digest: desc.digest, receivedBytes: received, totalBytes: desc.size, done, cached: false });
  const writer = haveBlob ? undefined : await content.openBlob(desc.digest, source.describe);
  const tmpLayer = content.tempPath(`layer-${diffId.slice(7, 19)}`);
  // A plain iterator (not for-await) so that when unpacking fails the rest can still be read.
  let input: AsyncIterator<Uint8Array | Buffer> | undefined;
  const pull = async (): Promise<Buffer | undefined> => {
    const next = await input!.next();
    if (next.done) return undefined;
    const raw = next.value;
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    received += chunk.length;
    if (writer) {
      if (received > desc.size)
        throw new ImageError("digest_mismatch", `${source.describe} sent more than the ${desc.size} bytes of blob ${desc.digest}; the data is corrupt`);
      await writer.write(chunk);
    }
    return chunk;
  };
  async function* tee(): AsyncGenerator<Buffer> {
    for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) {
      if (Date.now() - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = Date.now();
        report(false);
      }
      yield chunk;
    }
  }
  try {
    const stream = haveBlob ? createReadStream(content.blobPath(desc.digest)) : await source.open(desc, opts.signal);
    input = stream[Symbol.asyncIterator]();
    if (needUnpack) {
      await mkdir(tmpLayer, { mode: 0o755 });
      let result;
      try {
        const limits = opts.limits ?? DEFAULT_IMAGE_LIMITS;
        const layer = `layer ${desc.digest} of ${opts.where}`;
        result = await unpackLayer(tee(), tmpLayer, opts.signal, {
          bytes: [new LimitCounter("layerBytes", limits.layerBytes, layer), imageBytes],
          entries: new LimitCounter("layerEntries", limits.layerEntries, layer),
          ratio: { max: limits.compressionRatio, where: layer },
        });
      } catch (err) {
        throw await corruptionOr(err);
      }
      await writer?.commit();
      if (result.diffId !== diffId) {
        throw new ImageError(
          "digest_mismatch",
          `layer ${desc.digest} of ${opts.where} unpacks to ${result.diffId}, but the image config says ${diffId}; the image is corrupt, re-push it`,
        );
      }
      await content.commitLayer(tmpLayer, diffId);
    } else {
      for await (const _ of tee()) {
        /* download only */
      }
      await writer?.commit();
    }
    report(true);
  } catch (err) {
    await writer?.abort();
    await rm(tmpLayer, { recursive: true, force: true });
    await input?.return?.();
    throw err;
  }

  /** A layer that fails to unpack may simply be corrupt in transit: finish reading it and prefer the digest verdict. */
  async function corruptionOr(err: unknown): Promise<unknown> {
    // A limit passed is the verdict as it is: reading the rest of a bomb would only feed it.
    if (
      !writer ||
      opts.signal?.aborted ||
      (err instanceof ImageError && (err.kind === "network" || err.kind === "digest_mismatch" || err.kind === "too_large"))
    )
      return err;
    try {
      while ((await pull()) !== undefined) {
        /* drain */
      }
      await writer.verify();
    } catch (verdict) {
      if (verdict instanceof ImageError && verdict.kind === "digest_mismatch") return verdict;
    }
    return err;
  }
}

/** Runs fn over items, `limit` at a time; after a failure starts nothing new, waits for the rest, then throws. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  });
  await Promise.all(workers);
  if (failure) throw failure.err;
  return out;
}

export async function materialise(content: ContentStore, source: BlobSource, m: ImageManifestInput, opts: MaterialiseOptions): Promise<Materialised> {
  if (m.index) await content.putBlob(m.index.digest, m.index.bytes, source.describe);
  await content.putBlob(m.digest, m.bytes, source.describe);
  const configBytes = await content.once(`blob:${m.config.digest}`, () => readSmallBlob(content, source, m.config, opts.signal)).promise;
  const parsed = parseImageConfig(configBytes, opts.where);
  if (parsed.diffIds.length !== m.layers.length) {
    throw new ImageError(
      "unsupported",
      `${opts.where} lists ${m.layers.length} layers but its config has ${parsed.diffIds.length} diff ids; the image is malformed`,
    );
  }
  // Shared by the layers this call unpacks (layers already on disk were checked when they were unpacked).
  const imageBytes = new LimitCounter("imageBytes", (opts.limits ?? DEFAULT_IMAGE_LIMITS).imageBytes, opts.where);
  const layers = await mapLimit(m.layers, LAYER_CONCURRENCY, async (desc, i) => {
    const diffId = parsed.diffIds[i]!;
    const cachedBefore = content.hasBlob(desc.digest) && content.hasLayer(diffId);
    const { promise, leader } = content.once(`layer:${desc.digest}`, () => ensureLayer(content, source, desc, diffId, opts, imageBytes));
    await promise;
    if (cachedBefore || !leader) {
      opts.onProgress?.({ kind: "layer", digest: desc.digest, receivedBytes: desc.size, totalBytes: desc.size, done: true, cached: true });
    }
    return { digest: desc.digest, diffId, sizeBytes: desc.size, dir: content.layerDir(diffId) };
  });
  const blobs = [...(m.index ? [m.index.digest] : []), m.digest, m.config.digest, ...m.layers.map((l) => l.digest)];
  return { config: parsed.config, layers, blobs };
}
