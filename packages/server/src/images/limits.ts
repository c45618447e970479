/**
 * Size and count limits for untrusted image content (layer bombs, archive
 * bombs, entries claiming huge or sparse sizes). Counters are charged while
 * the data streams, so a refusal comes before the bytes are written, and the
 * error names the limit and the flag that raises it.
 */
import { ImageError } from "./errors.js";

export interface ImageLimits {
  /** Uncompressed bytes of one layer (its tar stream, and the apparent sizes of its entries). @default 8 GiB */
  layerBytes: number;
  /** Uncompressed bytes of all the layers one pull or load unpacks for an image. @default 8 GiB */
  imageBytes: number;
  /** Tar entries in one layer (and in a loaded archive). @default 1,000,000 */
  layerEntries: number;
  /** Uncompressed bytes of an archive given to `load`. @default 16 GiB */
  archiveBytes: number;
  /**
   * How many times its compressed size a layer (or archive) may expand, checked
   * once it has made COMPRESSION_RATIO_FLOOR_BYTES: a bomb under the size limits
   * is refused after MiBs of work, not GiBs. 0 turns the check off. @default 200
   */
  compressionRatio: number;
}

/** Output below this is never refused for its ratio (small, very compressible layers are common). */
export const COMPRESSION_RATIO_FLOOR_BYTES = 128 * 1024 * 1024;

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  layerBytes: 8 * 1024 ** 3,
  imageBytes: 8 * 1024 ** 3,
  layerEntries: 1_000_000,
  archiveBytes: 16 * 1024 ** 3,
  compressionRatio: 200,
};

/** The flag that raises each limit, named in errors so the operator knows what to change. */
const FLAGS: Record<keyof ImageLimits, string> = {
  layerBytes: "--image-max-layer-bytes",
  imageBytes: "--image-max-bytes",
  layerEntries: "--image-max-layer-entries",
  archiveBytes: "--image-max-archive-bytes",
  compressionRatio: "--image-max-compression-ratio",
};

const WHAT: Record<keyof ImageLimits, string> = {
  layerBytes: "uncompressed layer size",
  imageBytes: "uncompressed image size",
  layerEntries: "number of entries in a layer",
  archiveBytes: "uncompressed archive size",
  compressionRatio: "compression ratio",
};

/** A running total against one limit; `add` throws `too_large` once it is passed. */
export class LimitCounter {
  used = 0;

  constructor(
    readonly name: keyof ImageLimits,
    readonly limit: number,
    private readonly where: string,
  ) {}

  /** Throws if `extra` more would pass the limit, without charging it. */
  check(extra: number): void {
    if (this.used + extra > this.limit) throw tooLarge(this.name, this.limit, this.where);
  }

  add(n: number): void {
    this.check(n);
    this.used += n;
  }
}

export function tooLarge(name: keyof ImageLimits, limit: number, where: string): ImageError {
  if (name === "compressionRatio") {
    return new ImageError(
      "too_large",
      `${where} expands more than ${limit} times its compressed size; it looks like an archive bomb. Use another image, or ask the operator to raise ${FLAGS[name]} (0 turns the check off)`,
      { detail: { limit: name, flag: FLAGS[name], limitRatio: limit } },
    );
  }
  const unit = name === "layerEntries" ? "entries" : "bytes";
  return new ImageError(
    "too_large",
    `${where} is over the limit on the ${WHAT[name]} (${limit} ${unit}); it may be an archive bomb. Use a smaller image, or ask the operator to raise ${FLAGS[name]}`,
    {
      detail: { limit: name, flag: FLAGS[name], ...(unit === "bytes" ? { limitBytes: limit } : { limitEntries: limit }) },
    },
  );
}

/** What one unpack (a layer, or a loaded archive) is charged against. */
export interface UnpackBudget {
  /** Uncompressed bytes: the unpack's own counter, plus any shared one (the image's). */
  bytes: LimitCounter[];
  entries: LimitCounter;
  /** Most expansion allowed (uncompressed ÷ compressed bytes); absent or 0: unchecked. */
  ratio?: { max: number; where: string };
}

/** Throws `too_large` when `outBytes` (past the floor) is more than `max` times `inBytes`. */
export function checkRatio(ratio: UnpackBudget["ratio"], inBytes: number, outBytes: number): void {
  if (!ratio?.max || outBytes <= COMPRESSION_RATIO_FLOOR_BYTES) return;
  if (outBytes > ratio.max * Math.max(1, inBytes)) throw tooLarge("compressionRatio", ratio.max, ratio.where);
}

export function resolveLimits(partial: Partial<ImageLimits> | undefined): ImageLimits {
  return { ...DEFAULT_IMAGE_LIMITS, ...partial };
}
