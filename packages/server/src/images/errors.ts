/**
 * The images module's own error. Every failure the module reports is an
 * `ImageError` with a fixed `kind`; the domain layer maps kinds onto the
 * public error catalogue. Messages name the registry involved and say what
 * the caller can do next.
 */

export type ImageErrorKind =
  | "invalid_reference"
  | "not_found"
  | "unauthorized"
  | "digest_mismatch"
  | "unsafe_layer"
  | "invalid_archive"
  | "network"
  | "unsupported"
  | "aborted"
  | "too_large"
  | "forbidden_destination";

export interface ImageErrorOptions {
  registry?: string;
  reference?: string;
  cause?: unknown;
  /** Extra facts for the caller, e.g. the limit a `too_large` passed. */
  detail?: Record<string, unknown>;
}

export class ImageError extends Error {
  readonly kind: ImageErrorKind;
  readonly registry: string | undefined;
  readonly reference: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(kind: ImageErrorKind, message: string, options: ImageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ImageError";
    this.kind = kind;
    this.registry = options.registry;
    this.reference = options.reference;
    this.detail = options.detail;
  }
}

export function isImageError(err: unknown, kind?: ImageErrorKind): err is ImageError {
  return err instanceof ImageError && (kind === undefined || err.kind === kind);
}

/** Turns an abort into an `aborted` ImageError; passes everything else through. */
export function rethrowAbort(err: unknown, signal: AbortSignal | undefined): never {
  if (signal?.aborted && !(err instanceof ImageError)) {
    throw new ImageError("aborted", "the pull was cancelled", { cause: err });
  }
  throw err;
}
