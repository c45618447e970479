/**
 * Writes OCI image layouts for test fixtures: blobs by digest, image
 * configs, manifests, an optional multi-platform index, and `index.json`
 * naming the top object with a tag (`org.opencontainers.image.ref.name`).
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LayoutLayer {
  /** The blob as stored (compressed or not). */
  blob: Buffer;
  /** The uncompressed tar, for the diff id. */
  tar: Buffer;
  mediaType: string;
}

export interface LayoutImage {
  architecture: string;
  layers: LayoutLayer[];
  config: Record<string, unknown>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

export function digestOf(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export class LayoutWriter {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  }

  blob(bytes: Buffer, mediaType: string): Descriptor {
    const digest = digestOf(bytes);
    writeFileSync(join(this.dir, "blobs", "sha256", digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  image(img: LayoutImage): Descriptor {
    const config = {
      architecture: img.architecture,
      os: "linux",
      created: "2024-01-01T00:00:00Z",
      config: img.config,
      rootfs: { type: "layers", diff_ids: img.layers.map((l) => digestOf(l.tar)) },
    };
    const configDesc = this.blob(Buffer.from(JSON.stringify(config)), "application/vnd.oci.image.config.v1+json");
    const layers = img.layers.map((l) => this.blob(l.blob, l.mediaType));
    const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers };
    return { ...this.blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType), platform: { os: "linux", architecture: img.architecture } };
  }

  index(manifests: Descriptor[]): Descriptor {
    const index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests };
    return this.blob(Buffer.from(JSON.stringify(index)), index.mediaType);
  }

  /** Writes index.json pointing at `top` under `tag`. */
  finish(top: Descriptor, tag: string): void {
    const { platform: _platform, ...plain } = top;
    const entry = { ...plain, annotations: { "org.opencontainers.image.ref.name": tag } };
    writeFileSync(join(this.dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  }
}
