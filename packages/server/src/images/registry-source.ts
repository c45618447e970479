/**
 * Resolves a reference on a registry (mirrors first) to one verified image
 * manifest for linux/<arch>, and exposes that registry endpoint as the blob
 * source for `materialise`.
 */
import { ImageError } from "./errors.js";
import { parseManifest, selectPlatform } from "./manifest.js";
import { manifestSelector, type ImageReference } from "./reference.js";
import type { Endpoint, RegistryClient } from "./registry-client.js";
import type { BlobSource, ImageManifestInput } from "./materialise.js";
import type { RegistryAuthContext } from "./types.js";

export interface Resolved {
  /** Digest the reference names: the index digest for multi-platform images. */
  digest: string;
  manifest: ImageManifestInput;
  source: BlobSource;
}

export function endpointSource(client: RegistryClient, ep: Endpoint, repository: string, who: RegistryAuthContext): BlobSource {
  return {
    describe: `registry ${ep.host}`,
    async open(desc, signal) {
      return (await client.getBlob(ep, repository, desc.digest, signal, who)).body;
    },
  };
}

export async function resolveOnRegistry(
  client: RegistryClient,
  ref: ImageReference,
  display: string,
  arch: string,
  signal: AbortSignal | undefined,
  who: RegistryAuthContext,
): Promise<Resolved> {
  const selector = manifestSelector(ref);
  const { endpoint: ep, value: top } = await client.withEndpoints(ref.registry, signal, (ep) => client.getManifest(ep, ref.repository, selector, signal, who));
  const where = `${display} (registry ${ep.host})`;
  const parsed = parseManifest(top.bytes, top.contentType, where);
  const source = endpointSource(client, ep, ref.repository, who);
  if (parsed.kind === "image") {
    return { digest: top.digest, source, manifest: { digest: top.digest, bytes: top.bytes, config: parsed.config, layers: parsed.layers } };
  }
  const chosen = selectPlatform(parsed.manifests, arch, where);
  const child = await client.getManifest(ep, ref.repository, chosen.digest, signal, who);
  const inner = parseManifest(child.bytes, child.contentType, where);
  if (inner.kind !== "image")
    throw new ImageError("unsupported", `${where}: the linux/${arch} entry of the index is itself an index; nested indexes are not supported`);
  return {
    digest: top.digest,
    source,
    manifest: { digest: child.digest, bytes: child.bytes, config: inner.config, layers: inner.layers, index: { digest: top.digest, bytes: top.bytes } },
  };
}
