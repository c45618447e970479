/**
 * images/ — OCI images for sandboxes: reference parsing, the distribution
 * client (mirrors, auth, retries), the content-addressed blob store, safe
 * layer unpacking into overlayfs lowers, the JSON image index, and GC.
 * May import only Node built-ins, fzstd and net/ (address classes); never domain, api or store.
 */
export { ImageStore } from "./image-store.js";
export { ImageError, isImageError, type ImageErrorKind } from "./errors.js";
export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./limits.js";
export { parseReference, normaliseReference, formatReference, type ImageReference } from "./reference.js";
export type { Credentials } from "./auth.js";
export { isDigest } from "./reference.js";
export type {
  RegistryAuthContext,
  ImageStoreOptions,
  ImageConfig,
  ImageLayer,
  ImageRecord,
  PullProgress,
  PullOptions,
  PruneResult,
  Logger,
  LogLevel,
} from "./types.js";
