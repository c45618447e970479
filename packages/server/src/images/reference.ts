/**
 * Image reference parsing with Docker's normalisation rules:
 * `node:22` → `docker.io/library/node:22`, `ghcr.io/org/x@sha256:…`,
 * tag + digest, default tag `latest`. Grammar follows
 * github.com/distribution/reference; anything else is `invalid_reference`.
 */
import { ImageError } from "./errors.js";

export interface ImageReference {
  /** Registry host as written, normalised (`docker.io` for Docker Hub), may carry `:port`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/node`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

export const DOCKER_HUB = "docker.io";
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME_LENGTH = 255;

function invalid(input: string, why: string): ImageError {
  return new ImageError(
    "invalid_reference",
    `invalid image reference "${input}": ${why}; use the form [registry/]repository[:tag][@sha256:<64 hex>], e.g. docker.io/library/node:22`,
    { reference: input },
  );
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

function validDomain(domain: string): boolean {
  const [host, port, ...rest] = domain.split(":");
  if (rest.length > 0 || host === undefined) return false;
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) return false;
  return host.split(".").every((c) => DOMAIN_COMPONENT.test(c));
}

/** Parses and normalises a reference; throws `ImageError("invalid_reference")`. */
export function parseReference(input: string): ImageReference {
  if (input.length === 0 || input.trim() !== input) throw invalid(input, "it is empty or has surrounding spaces");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input, `"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `"${tag}" is not a valid tag`);
  }
  if (rest.length === 0) throw invalid(input, "the repository name is missing");

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!validDomain(registry)) throw invalid(input, `"${registry}" is not a valid registry host`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (repository !== repository.toLowerCase()) throw invalid(input, "repository names must be lowercase");
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) throw invalid(input, `"${component}" is not a valid path component`);
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) throw invalid(input, "the name is longer than 255 characters");
  if (tag === undefined && digest === undefined) tag = "latest";
  return { registry, repository, tag, digest };
}

/** The canonical string: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

export function normaliseReference(input: string): string {
  return formatReference(parseReference(input));
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function manifestSelector(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}
