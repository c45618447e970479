/**
 * Reads image tarballs for `load` (air-gapped hosts): an OCI image layout
 * (`oci-layout`, `index.json`, `blobs/`) or a `docker save` archive
 * (`manifest.json` with Config/RepoTags/Layers, for which a Docker v2
 * manifest is synthesised). The tarball is first extracted with the same
 * safe extractor as layers; blob files are then read only from inside it.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, realpath } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { ImageError } from "./errors.js";
import { MEDIA, parseManifest, selectPlatform, sha256, hostArch, type Descriptor } from "./manifest.js";
import { normaliseReference } from "./reference.js";
import { safeRelativePath, unpackLayer } from "./unpack.js";
import { DEFAULT_IMAGE_LIMITS, LimitCounter, type ImageLimits } from "./limits.js";
import type { BlobSource, ImageManifestInput } from "./materialise.js";

export interface ArchiveImage {
  reference: string;
  digest: string;
  manifest: ImageManifestInput;
  source: BlobSource;
}

function invalid(tarPath: string, why: string): ImageError {
  return new ImageError(
    "invalid_archive",
    `${tarPath} is not a loadable image archive: ${why}; create it with "docker save" or "skopeo copy … oci-archive:FILE"`,
  );
}

/** Resolves a path inside the extracted archive, refusing anything (e.g. a symlink) that leads out. */
async function inside(root: string, rel: string, tarPath: string): Promise<string> {
  const abs = join(root, safeRelativePath(rel));
  const real = await realpath(abs).catch(() => {
    throw invalid(tarPath, `${rel} is missing`);
  });
  if (real !== root && !real.startsWith(root + sep)) throw invalid(tarPath, `${rel} points outside the archive`);
  return real;
}

function fileSource(root: string, tarPath: string, pathOf: (d: Descriptor) => string): BlobSource {
  return {
    describe: `archive ${tarPath}`,
    async open(desc) {
      return createReadStream(await inside(root, pathOf(desc), tarPath));
    },
  };
}

function defaultName(tarPath: string): string {
  return `localhost/${
    basename(tarPath)
      .replace(/\.(tar|tgz|tar\.gz)$/i, "")
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "") || "image"
  }`;
}

function nameFor(annotations: Record<string, string> | undefined, tarPath: string): string {
  const name = annotations?.["io.containerd.image.name"] ?? annotations?.["org.opencontainers.image.ref.name"];
  if (!name) return `${defaultName(tarPath)}:latest`;
  if (!name.includes("/") && !name.includes(":")) return `${defaultName(tarPath)}:${name}`;
  return normaliseReference(name);
}

async function readJson(path: string, tarPath: string): Promise<Record<string, unknown> | unknown[]> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw invalid(tarPath, `${basename(path)} is not valid JSON (${(err as Error).message})`);
  }
}

async function readOciLayout(root: string, tarPath: string): Promise<ArchiveImage[]> {
  const blobPath = (d: Descriptor) => `blobs/sha256/${d.digest.slice(7)}`;
  const readVerified = async (d: Descriptor) => {
    const bytes = await readFile(await inside(root, blobPath(d), tarPath));
    if (sha256(bytes) !== d.digest) throw new ImageError("digest_mismatch", `blob ${d.digest} in ${tarPath} does not match its digest; the archive is corrupt`);
    return bytes;
  };
  const index = parseManifest(await readFile(join(root, "index.json")), undefined, `${tarPath} index.json`);
  if (index.kind !== "index") throw invalid(tarPath, "index.json is not an image index");
  const source = fileSource(root, tarPath, blobPath);
  const out: ArchiveImage[] = [];
  for (const desc of index.manifests) {
    const bytes = await readVerified(desc);
    const where = `${desc.digest} in ${tarPath}`;
    const parsed = parseManifest(bytes, desc.mediaType, where);
    const reference = nameFor(desc.annotations, tarPath);
    if (parsed.kind === "image") {
      out.push({ reference, digest: desc.digest, source, manifest: { digest: desc.digest, bytes, config: parsed.config, layers: parsed.layers } });
      continue;
    }
    const chosen = selectPlatform(parsed.manifests, hostArch(), where);
    const childBytes = await readVerified(chosen);
    const child = parseManifest(childBytes, chosen.mediaType, where);
    if (child.kind !== "image") throw invalid(tarPath, "nested indexes are not supported");
    out.push({
      reference,
      digest: desc.digest,
      source,
      manifest: { digest: chosen.digest, bytes: childBytes, config: child.config, layers: child.layers, index: { digest: desc.digest, bytes } },
    });
  }
  return out;
}

async function fileDescriptor(path: string, mediaType: string): Promise<Descriptor> {
  const hash = createHash("sha256");
  let size = 0;
  let head: Buffer | undefined;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    head ??= chunk.subarray(0, 4);
    hash.update(chunk);
    size += chunk.length;
  }
  const gz = head?.[0] === 0x1f && head[1] === 0x8b;
  const zst = head?.readUInt32BE(0) === 0x28b52ffd;
  return { mediaType: gz ? `${mediaType}.gzip` : zst ? `${mediaType}.zstd` : mediaType, digest: `sha256:${hash.digest("hex")}`, size };
}

async function readDockerArchive(root: string, tarPath: string): Promise<ArchiveImage[]> {
  const list = await readJson(join(root, "manifest.json"), tarPath);
  if (!Array.isArray(list)) throw invalid(tarPath, "manifest.json is not a list");
  const out: ArchiveImage[] = [];
  for (const item of list as Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>) {
    if (typeof item.Config !== "string" || !Array.isArray(item.Layers)) throw invalid(tarPath, "a manifest.json entry lacks Config or Layers");
    const paths = new Map<string, string>();
    const configPath = await inside(root, item.Config, tarPath);
    const config = await fileDescriptor(configPath, MEDIA.dockerConfig);
    config.mediaType = MEDIA.dockerConfig;
    paths.set(config.digest, item.Config);
    const layers: Descriptor[] = [];
    for (const rel of item.Layers) {
      if (typeof rel !== "string") throw invalid(tarPath, "a layer path is not a string");
      const d = await fileDescriptor(await inside(root, rel, tarPath), MEDIA.dockerLayerTar);
      paths.set(d.digest, rel);
      layers.push(d);
    }
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerManifest, config, layers }));
    const digest = sha256(bytes);
    const source = fileSource(root, tarPath, (d) => paths.get(d.digest) ?? "");
    const tags = Array.isArray(item.RepoTags) && item.RepoTags.length > 0 ? item.RepoTags.map(String) : [`${defaultName(tarPath)}:latest`];
    for (const tag of tags) out.push({ reference: normaliseReference(tag), digest, source, manifest: { digest, bytes, config, layers } });
  }
  return out;
}

/** Extracts `tarPath` into `tmpDir` and lists the images in it. */
export async function readArchive(tarPath: string, tmpDir: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ArchiveImage[]> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const root = await realpath(tmpDir);
  try {
    // The archive may itself be compressed: its expanded size is limited, not just the upload.
    await unpackLayer(createReadStream(tarPath), root, undefined, {
      bytes: [new LimitCounter("archiveBytes", limits.archiveBytes, "the image archive")],
      entries: new LimitCounter("layerEntries", limits.layerEntries, "the image archive"),
      ratio: { max: limits.compressionRatio, where: "the image archive" },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw invalid(tarPath, "the file does not exist");
    if (err instanceof ImageError && err.kind === "unsafe_layer") throw invalid(tarPath, err.message);
    throw err;
  }
  if (existsSync(join(root, "oci-layout")) && existsSync(join(root, "index.json"))) return readOciLayout(root, tarPath);
  if (existsSync(join(root, "manifest.json"))) return readDockerArchive(root, tarPath);
  throw invalid(tarPath, "it has neither oci-layout/index.json nor manifest.json");
}
