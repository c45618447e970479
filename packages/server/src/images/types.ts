/**
 * Public types of the images module: options, image records, progress
 * events. Consumers import them from `images/index.ts`.
 */

import type { ImageLimits } from "./limits.js";
import type { Credentials } from "./auth.js";
import type { ImageConfig } from "@nimbus/nimbus";

/**
 * Whose credentials a pull presents to registries. Registry tokens are cached
 * per `scope` (and registry and repository), so one party's token never
 * serves another's request; a pull deduplicated with another only shares it
 * when both have the same scope.
 */
export interface RegistryAuthContext {
  /** Names the party and its credentials' version, e.g. `operator` or `tenant:acme:2026-…`. */
  scope: string;
  /** The credentials for a registry host (`host[:port]`, as dialled), if this party has any. */
  credentials(host: string): Credentials | undefined;
  /** What to tell the party when a registry wants credentials it has not given. */
  loginHint(host: string): string;
}

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface ImageStoreOptions {
  /** Directory that holds everything: `<data-dir>/images`. */
  root: string;
  /** Registry host → mirror base URLs tried before the upstream, e.g. `{ "docker.io": ["http://127.0.0.1:5000"] }`. */
  mirrors?: Record<string, string[]>;
  /** Registry hosts (`host:port`) spoken to over plain HTTP. Loopback hosts always are. */
  insecureRegistries?: string[];
  /** Registry hosts (`host` or `host:port`) that may be dialled whatever their address (loopback, private). */
  registryAllow?: string[];
  /** Dial loopback, link-local and private registry addresses (never cloud metadata unless in `registryAllow`). @default false */
  registryAllowPrivate?: boolean;
  /** Time allowed for a registry's response headers, and between body chunks. @default 30000 */
  registryTimeoutMs?: number;
  /** Docker config with `auths`; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  dockerConfigPath?: string;
  /** OCI architecture to select from manifest lists; default from `process.arch`. */
  arch?: string;
  /** Limits on expanded content (bombs); each missing one takes its default from `DEFAULT_IMAGE_LIMITS`. */
  limits?: Partial<ImageLimits>;
  log?: Logger;
}

/** An image's run config as the wire shows it (the SDK's type, from the schema). */
export type { ImageConfig };

export interface ImageLayer {
  /** Digest of the blob as stored in the registry (compressed). */
  digest: string;
  /** Digest of the uncompressed tar. */
  diffId: string;
  /** Size of the blob (compressed) in bytes. */
  sizeBytes: number;
  /** Absolute path of the unpacked layer directory (an overlayfs lower). */
  dir: string;
}

export interface ImageRecord {
  /** Normalised reference, e.g. `docker.io/library/node:22`. */
  reference: string;
  /** Digest the reference resolved to (the index digest for multi-platform images). */
  digest: string;
  config: ImageConfig;
  /** Bottom layer first. */
  layers: ImageLayer[];
  /** Sum of the layer blob sizes. */
  sizeBytes: number;
  /** ISO 8601 time of the pull or load. */
  pulledAt: string;
}

export type PullProgress =
  | { kind: "resolved"; reference: string; digest: string; layers: number }
  | { kind: "layer"; digest: string; receivedBytes: number; totalBytes: number; done: boolean; cached: boolean }
  | { kind: "done"; image: ImageRecord };

export interface PullOptions {
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** `if_missing` (default) answers from the local index when the reference is present. */
  policy?: "always" | "if_missing";
  /** Whose credentials to present; @default the operator's (the docker config's `auths`). */
  auth?: RegistryAuthContext;
}

export interface PruneResult {
  removedImages: string[];
  removedLayers: string[];
  freedBytes: number;
}
