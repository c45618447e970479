/**
 * Registry credentials and challenges: HTTP Basic credentials from a Docker
 * config file's `auths`, `WWW-Authenticate` parsing, and the bearer-token
 * exchange (`realm`, `service`, `scope`) used by Docker Hub and GHCR.
 * Credential helpers (`credsStore`, `credHelpers`) are not consulted.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ImageError } from "./errors.js";

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: "bearer" | "basic" | "other";
  params: Record<string, string>;
}

const HUB_KEYS = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];

export function defaultDockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
}

function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
}

/** Credentials for a registry host (`host[:port]`), read fresh from the config file. */
export function findCredentials(configPath: string, host: string): Credentials | undefined {
  let auths: Record<string, { auth?: string; username?: string; password?: string }>;
  try {
    const parsed: unknown = JSON.parse(readFileSync(configPath, "utf8"));
    const a = (parsed as { auths?: unknown }).auths;
    if (typeof a !== "object" || a === null) return undefined;
    auths = a as typeof auths;
  } catch {
    return undefined;
  }
  const wanted = host === "docker.io" || host === "registry-1.docker.io" ? HUB_KEYS : [host];
  for (const [key, entry] of Object.entries(auths)) {
    if (!wanted.includes(key) && !wanted.includes(keyHost(key))) continue;
    if (typeof entry?.username === "string" && typeof entry.password === "string") return { username: entry.username, password: entry.password };
    if (typeof entry?.auth === "string") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

/** Parses the first challenge of a `WWW-Authenticate` header. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]!;
  return { scheme: scheme === "bearer" ? "bearer" : scheme === "basic" ? "basic" : "other", params };
}

export interface TokenRequest {
  challenge: Challenge;
  scope: string;
  credentials: Credentials | undefined;
  registry: string;
  signal: AbortSignal;
  fetchFn: typeof fetch;
}

/** Exchanges a bearer challenge for a token; throws `unauthorized` when refused. */
export async function fetchBearerToken(req: TokenRequest): Promise<string> {
  const realm = req.challenge.params.realm;
  if (!realm) throw new ImageError("unauthorized", `registry ${req.registry} sent a bearer challenge without a realm`, { registry: req.registry });
  const url = new URL(realm);
  if (req.challenge.params.service) url.searchParams.set("service", req.challenge.params.service);
  url.searchParams.set("scope", req.challenge.params.scope ?? req.scope);
  const headers: Record<string, string> = {};
  if (req.credentials) headers.authorization = basicHeader(req.credentials);
  let res: Response;
  try {
    res = await req.fetchFn(url, { headers, signal: req.signal });
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError("network", `could not reach the token service ${url.origin} of registry ${req.registry}: ${(err as Error).message}`, {
      registry: req.registry,
      cause: err,
    });
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new ImageError(
      "unauthorized",
      req.credentials
        ? `registry ${req.registry} refused the credentials of user "${req.credentials.username}" (token service answered ${res.status}); check them with docker login ${req.registry}`
        : `registry ${req.registry} requires authentication and no credentials for it were found; run docker login ${req.registry} or add it to the docker config auths`,
      { registry: req.registry },
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ImageError("network", `the token service of registry ${req.registry} answered ${res.status}; try again later`, { registry: req.registry });
  }
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === "string" ? body.token : body.access_token;
  if (typeof token !== "string" || token === "")
    throw new ImageError("unauthorized", `the token service of registry ${req.registry} returned no token`, { registry: req.registry });
  return token;
}
