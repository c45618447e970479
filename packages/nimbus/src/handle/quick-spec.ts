/**
 * The short form of sandbox creation: `{ image }` and a few common options,
 * expanded here into the contract's full `{profile, spec, labels}` body, so
 * the server sees one shape and the full form keeps working unchanged.
 */
import type { CreateSandboxInput } from "../sandboxes.js";
import type { CallOptions } from "../transport.js";
import type { Labels, SandboxSpec } from "../types/index.js";

/**
 * What an agent usually wants to say about a new sandbox.
 *
 * @example
 * const input: QuickSandboxInput = { image: "python:3.12", env: { DEBUG: "1" } };
 */
export interface QuickSandboxInput extends CallOptions {
  /** An OCI image reference, e.g. `python:3.12` or `docker.io/library/alpine:3`. */
  image: string;
  /** The main process; a string runs with `/bin/sh -c`. @default a process that waits for SIGTERM, so the sandbox stays up for commands */
  cmd?: string | string[];
  /** Environment of the main process; commands run in the sandbox inherit it. */
  env?: Record<string, string>;
  /** A display name (not unique; the id is the handle). */
  name?: string;
  labels?: Labels;
  /** Stop (or delete) the sandbox this long after creation, unless extended. */
  ttlSeconds?: number;
  /** Extra spec fields (e.g. `resources`, `network`, `lifetime`), merged over the expansion. */
  spec?: Partial<SandboxSpec>;
  /** How long to wait for `ready`. @default 120000 */
  readyTimeoutMs?: number;
}

/** Waits for SIGTERM (or SIGINT) and exits 0 at once; `sleep` in the background so the trap runs promptly. */
export const KEEP_ALIVE_ARGV = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"];

/** True for the short form (it names an `image`); the full form has `spec`. */
export function isQuickInput(input: CreateSandboxInput | QuickSandboxInput): input is QuickSandboxInput {
  return typeof (input as QuickSandboxInput).image === "string" && (input as CreateSandboxInput).profile === undefined;
}

/** The full contract form of a short-form input. */
export function expandQuickInput(input: QuickSandboxInput): CreateSandboxInput {
  const argv = input.cmd === undefined ? KEEP_ALIVE_ARGV : typeof input.cmd === "string" ? ["/bin/sh", "-c", input.cmd] : input.cmd;
  const env = input.env ? Object.entries(input.env).map(([k, v]) => `${k}=${v}`) : undefined;
  const spec: SandboxSpec = {
    owner: { kind: "standalone", ...(input.name ? { displayName: input.name } : {}) },
    backend: "container",
    root: { kind: "oci_image", source: { kind: "reference", reference: input.image } },
    process: { argv, ...(env ? { env } : {}) },
    ...(input.ttlSeconds !== undefined ? { lifetime: { ttlSeconds: input.ttlSeconds } } : {}),
    ...input.spec,
  };
  return { profile: "worker", spec, labels: input.labels, tenantId: input.tenantId, signal: input.signal };
}
