/**
 * Manifests, indexes and image configs: media types, runtime-checked
 * parsing, platform selection for manifest lists, and digests.
 */
import { createHash } from "node:crypto";
import { ImageError } from "./errors.js";
import type { ImageConfig } from "./types.js";

export const MEDIA = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerLayerTar: "application/vnd.docker.image.rootfs.diff.tar",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(", ");

const LAYER_TYPES =
  /^application\/vnd\.(oci\.image\.layer(\.nondistributable)?\.v1\.tar(\+gzip|\+zstd)?|docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.gzip|\.zstd)?)$/;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  { kind: "index"; mediaType: string; manifests: Descriptor[] } | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] };

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function descriptor(v: unknown, where: string): Descriptor {
  const d = record(v);
  if (!d || typeof d.digest !== "string" || !/^sha256:[a-f0-9]{64}$/.test(d.digest) || typeof d.size !== "number") {
    throw new ImageError("unsupported", `${where} has a malformed descriptor (only sha256 digests are supported)`);
  }
  const platform = record(d.platform);
  return {
    mediaType: typeof d.mediaType === "string" ? d.mediaType : "",
    digest: d.digest,
    size: d.size,
    ...(platform ? { platform: platform as Descriptor["platform"] } : {}),
    ...(record(d.annotations) ? { annotations: d.annotations as Record<string, string> } : {}),
  };
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    value = undefined;
  }
  const obj = record(value);
  if (!obj) throw new ImageError("unsupported", `the ${what} is not a JSON object`);
  return obj;
}

/** Parses a manifest or index; `where` names it in errors (e.g. the reference and registry). */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string): ParsedManifest {
  const m = parseJson(bytes, `manifest of ${where}`);
  const mediaType = typeof m.mediaType === "string" ? m.mediaType : (contentType ?? "").split(";")[0]!.trim();
  if (m.schemaVersion === 1 || mediaType.startsWith("application/vnd.docker.distribution.manifest.v1+")) {
    throw new ImageError("unsupported", `${where} uses the Docker schema 1 manifest format, which is not supported; re-push it with a current client`);
  }
  if (Array.isArray(m.manifests)) {
    return { kind: "index", mediaType: mediaType || MEDIA.ociIndex, manifests: m.manifests.map((d) => descriptor(d, where)) };
  }
  if (Array.isArray(m.layers) && m.config !== undefined) {
    const layers = m.layers.map((d) => descriptor(d, where));
    for (const l of layers) {
      if (!LAYER_TYPES.test(l.mediaType))
        throw new ImageError("unsupported", `${where} has a layer of type "${l.mediaType}", which is not a container filesystem layer`);
    }
    return { kind: "image", mediaType: mediaType || MEDIA.ociManifest, config: descriptor(m.config, where), layers };
  }
  throw new ImageError("unsupported", `${where} is neither an image manifest nor an index (media type "${mediaType}")`);
}

/** Picks `linux/<arch>` from an index (an arm64 entry may carry variant v8 or none). */
export function selectPlatform(index: Descriptor[], arch: string, where: string): Descriptor {
  const candidates = index.filter((d) => d.platform?.os === "linux" && d.platform.architecture === arch);
  const best = candidates.find((d) => !d.platform?.variant || (arch === "arm64" && d.platform.variant === "v8")) ?? candidates[0];
  if (best) return best;
  const offered = index.map((d) => `${d.platform?.os ?? "?"}/${d.platform?.architecture ?? "?"}`).join(", ");
  throw new ImageError("unsupported", `${where} has no linux/${arch} image (it offers: ${offered || "nothing"}); choose an image built for this host`);
}

/** Maps Node's `process.arch` onto OCI architecture names. */
export function hostArch(): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[process.arch] ?? process.arch;
}

function strings(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : null;
}

export interface ParsedConfig {
  config: ImageConfig;
  diffIds: string[];
  architecture: string;
  os: string;
}

export function parseImageConfig(bytes: Buffer, where: string): ParsedConfig {
  const c = parseJson(bytes, `config of ${where}`);
  const cfg = record(c.config) ?? {};
  const rootfs = record(c.rootfs);
  const diffIds = strings(rootfs?.diff_ids);
  if (!diffIds) throw new ImageError("unsupported", `the config of ${where} lists no rootfs.diff_ids`);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(cfg.Labels) ?? {})) if (typeof v === "string") labels[k] = v;
  return {
    config: {
      entrypoint: strings(cfg.Entrypoint),
      cmd: strings(cfg.Cmd),
      env: strings(cfg.Env) ?? [],
      workingDir: typeof cfg.WorkingDir === "string" ? cfg.WorkingDir : "",
      user: typeof cfg.User === "string" ? cfg.User : "",
      exposedPorts: Object.keys(record(cfg.ExposedPorts) ?? {}),
      labels,
    },
    diffIds,
    architecture: typeof c.architecture === "string" ? c.architecture : "",
    os: typeof c.os === "string" ? c.os : "",
  };
}
