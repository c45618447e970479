/**
 * OCI distribution client over `fetch`: endpoint selection (mirrors first,
 * then the upstream; plain HTTP for loopback and insecure registries),
 * bearer/basic auth, manual redirects (credentials never leave the registry's
 * origin), retries with backoff on 429/5xx and network errors, and timeouts.
 * Manifests are verified against their digest here; blobs by the caller.
 */
import { ImageError, isImageError } from "./errors.js";
import { basicHeader, defaultDockerConfigPath, fetchBearerToken, findCredentials, parseChallenge } from "./auth.js";
import { MANIFEST_ACCEPT, sha256 } from "./manifest.js";
import { Deadline, isLoopbackHost, sleep } from "./http-util.js";
import type { DestinationPolicy } from "./destinations.js";
import { guardedFetch } from "./guarded-fetch.js";
import type { Logger, RegistryAuthContext } from "./types.js";

export interface RegistryClientOptions {
  mirrors?: Record<string, string[]>;
  insecureRegistries?: string[];
  dockerConfigPath?: string;
  log?: Logger;
  /** Time allowed for response headers, and between body chunks. @default 30000 */
  timeoutMs?: number;
  /** Retries after the first attempt on 429/5xx/network errors. @default 3 */
  retries?: number;
  /** First backoff delay; doubles each retry. @default 250 */
  retryBaseMs?: number;
  fetchFn?: typeof fetch;
  /** Checks every address dialled (endpoints, token realms, redirects); without it, anything may be dialled. */
  destinations?: DestinationPolicy;
  /** Authorization headers kept for reuse (see `auth`). @default 512 */
  maxCachedAuth?: number;
}

export interface Endpoint {
  /** Logical registry of the reference (e.g. `docker.io`). */
  registry: string;
  /** `host[:port]` actually contacted. */
  host: string;
  /** Base URL without trailing slash; `/v2/…` is appended. */
  base: string;
  mirror: boolean;
}

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | undefined;
  digest: string;
}

export interface BlobStream {
  body: AsyncIterable<Uint8Array>;
  sizeBytes: number | undefined;
}

const MAX_MANIFEST_BYTES = 4 << 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class RegistryClient {
  /**
   * Authorization headers earned, per party, registry and repository, least
   * recently used first. Bounded: every repository a tenant pulls from is a key,
   * and so is each version of its credentials, so a tenant could otherwise grow
   * it for as long as the server runs. One dropped costs a token request.
   */
  private readonly auth = new Map<string, string>();
  private readonly maxCachedAuth: number;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;

  /** The operator's credentials: the docker config's `auths`, read fresh on each challenge. */
  readonly operator: RegistryAuthContext;

  constructor(private readonly opts: RegistryClientOptions = {}) {
    const configPath = opts.dockerConfigPath ?? defaultDockerConfigPath();
    this.operator = {
      scope: "operator",
      credentials: (host) => findCredentials(configPath, host),
      loginHint: (host) => `run docker login ${host}`,
    };
    this.fetchFn = opts.fetchFn ?? (opts.destinations ? guardedFetch(opts.destinations) : fetch);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = opts.retries ?? 3;
    this.retryBaseMs = opts.retryBaseMs ?? 250;
    this.maxCachedAuth = opts.maxCachedAuth ?? 512;
  }

  /** Mirrors in configured order, then the upstream. */
  endpoints(registry: string): Endpoint[] {
    const out: Endpoint[] = (this.opts.mirrors?.[registry] ?? []).map((url) => {
      const u = new URL(url);
      return { registry, host: u.host, base: url.replace(/\/+$/, ""), mirror: true };
    });
    const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
    const plain = isLoopbackHost(host) || (this.opts.insecureRegistries ?? []).includes(host);
    out.push({ registry, host, base: `${plain ? "http" : "https"}://${host}`, mirror: false });
    return out;
  }

  /** Runs `fn` against each endpoint until one succeeds; reports the most telling failure. */
  async withEndpoints<T>(registry: string, signal: AbortSignal | undefined, fn: (ep: Endpoint) => Promise<T>): Promise<{ endpoint: Endpoint; value: T }> {
    const failures: Array<{ ep: Endpoint; err: unknown }> = [];
    for (const ep of this.endpoints(registry)) {
      try {
        return { endpoint: ep, value: await fn(ep) };
      } catch (err) {
        if (signal?.aborted || isImageError(err, "aborted") || isImageError(err, "digest_mismatch")) throw err;
        this.opts.log?.("debug", "registry endpoint failed", { registry, endpoint: ep.base, error: (err as Error).message });
        failures.push({ ep, err });
      }
    }
    const telling = failures.find((f) => isImageError(f.err) && f.err.kind !== "network") ?? failures[failures.length - 1]!;
    if (failures.length > 1 && telling.err instanceof ImageError) {
      const tried = failures.map((f) => `${f.ep.mirror ? "mirror " : ""}${f.ep.base}: ${(f.err as Error).message}`).join("; ");
      throw new ImageError(telling.err.kind, `${telling.err.message} (tried ${tried})`, { registry, cause: telling.err });
    }
    throw telling.err;
  }

  async getManifest(
    ep: Endpoint,
    repository: string,
    selector: string,
    signal?: AbortSignal,
    who: RegistryAuthContext = this.operator,
  ): Promise<FetchedManifest> {
    const deadline = new Deadline(this.timeoutMs, signal);
    try {
      const res = await this.request(ep, repository, `manifests/${selector}`, deadline, who, MANIFEST_ACCEPT);
      if (res.status === 404) {
        await res.body?.cancel();
        throw new ImageError("not_found", `${ep.registry}/${repository}:${selector} was not found on registry ${ep.host}; check the repository name and tag`, {
          registry: ep.host,
        });
      }
      if (!res.ok) throw await this.unexpected(ep, res);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length > MAX_MANIFEST_BYTES)
        throw new ImageError("unsupported", `the manifest from registry ${ep.host} is larger than 4 MiB`, { registry: ep.host });
      const digest = sha256(bytes);
      const claimed = selector.startsWith("sha256:") ? selector : res.headers.get("docker-content-digest");
      if (claimed && claimed !== digest) {
        throw new ImageError(
          "digest_mismatch",
          `registry ${ep.host} sent a manifest for ${repository} whose digest is ${digest}, not ${claimed}; the registry or a proxy is corrupting data`,
          { registry: ep.host },
        );
      }
      return { bytes, contentType: res.headers.get("content-type") ?? undefined, digest };
    } finally {
      deadline.clear();
    }
  }

  /** Opens a blob; the caller verifies the bytes and must consume or cancel the body. */
  async getBlob(ep: Endpoint, repository: string, digest: string, signal?: AbortSignal, who: RegistryAuthContext = this.operator): Promise<BlobStream> {
    const deadline = new Deadline(this.timeoutMs, signal);
    const res = await this.request(ep, repository, `blobs/${digest}`, deadline, who).catch((err) => {
      deadline.clear();
      throw err;
    });
    if (!res.ok || !res.body) {
      deadline.clear();
      if (res.status === 404) {
        await res.body?.cancel();
        throw new ImageError("not_found", `blob ${digest} of ${repository} is missing on registry ${ep.host}; the image is incomplete there, re-push it`, {
          registry: ep.host,
        });
      }
      throw await this.unexpected(ep, res);
    }
    const length = Number(res.headers.get("content-length"));
    const body = res.body;
    async function* guarded(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of body) {
          deadline.reset();
          yield chunk;
        }
      } catch (err) {
        throw deadline.explain(err, `downloading blob ${digest} from registry ${ep.host}`, ep.host);
      } finally {
        deadline.clear();
      }
    }
    return { body: guarded(), sizeBytes: Number.isFinite(length) && length > 0 ? length : undefined };
  }

  private async unexpected(ep: Endpoint, res: Response): Promise<ImageError> {
    const text = (await res.text().catch(() => "")).slice(0, 300);
    return new ImageError("network", `registry ${ep.host} answered ${res.status} ${res.statusText}${text ? `: ${text}` : ""}`, { registry: ep.host });
  }

  private async request(ep: Endpoint, repository: string, path: string, deadline: Deadline, who: RegistryAuthContext, accept?: string): Promise<Response> {
    const url = `${ep.base}/v2/${repository}/${path}`;
    // Per party: a token one party's credentials earned never authorizes another's request.
    const authKey = `${who.scope} ${ep.base} ${repository}`;
    let authorized = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {};
      if (accept) headers.accept = accept;
      const auth = this.auth.get(authKey);
      if (auth) headers.authorization = this.rememberAuth(authKey, auth);
      let res: Response;
      try {
        res = await this.fetchFollowing(url, headers, deadline);
      } catch (err) {
        const failure = deadline.explain(err, `contacting registry ${ep.host}`, ep.host);
        if (failure.kind === "aborted" || failure.kind === "forbidden_destination" || attempt >= this.retries) throw failure;
        await this.backoff(attempt, undefined, deadline);
        continue;
      }
      if (res.status === 401 && !authorized) {
        authorized = true;
        attempt--;
        await res.body?.cancel();
        this.rememberAuth(authKey, await this.authorize(ep, repository, res, deadline, who));
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        const creds = who.credentials(ep.host);
        throw new ImageError(
          "unauthorized",
          creds
            ? `registry ${ep.host} refused access to ${repository} for user "${creds.username}" (HTTP ${res.status}); check the credentials and that the user may pull this repository`
            : `registry ${ep.host} requires authentication for ${repository} (HTTP ${res.status}) and no credentials for it were found; ${who.loginHint(ep.host)}`,
          { registry: ep.host },
        );
      }
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        await res.body?.cancel();
        await this.backoff(attempt, res.headers.get("retry-after"), deadline);
        continue;
      }
      return res;
    }
  }

  /** Keeps `value` as the most recently used, dropping the least recently used past the bound. */
  private rememberAuth(key: string, value: string): string {
    this.auth.delete(key);
    this.auth.set(key, value);
    for (const oldest of this.auth.keys()) {
      if (this.auth.size <= this.maxCachedAuth) break;
      this.auth.delete(oldest);
    }
    return value;
  }

  private async authorize(ep: Endpoint, repository: string, res: Response, deadline: Deadline, who: RegistryAuthContext): Promise<string> {
    const challenge = parseChallenge(res.headers.get("www-authenticate"));
    const credentials = who.credentials(ep.host);
    if (challenge?.scheme === "bearer") {
      this.checkRealm(ep, challenge.params.realm);
      return `Bearer ${await fetchBearerToken({ challenge, scope: `repository:${repository}:pull`, credentials, registry: ep.host, signal: deadline.signal, fetchFn: this.fetchFn })}`;
    }
    if (challenge?.scheme === "basic" && credentials) return basicHeader(credentials);
    throw new ImageError(
      "unauthorized",
      `registry ${ep.host} requires authentication (${challenge?.scheme ?? "no challenge given"}) for ${repository} and no credentials for it were found; ${who.loginHint(ep.host)}`,
      { registry: ep.host },
    );
  }

  /** A token realm is another destination the registry chose: https only, unless it is an allowed plain-HTTP registry. */
  private checkRealm(ep: Endpoint, realm: string | undefined): void {
    const policy = this.opts.destinations;
    if (!policy || !realm) return;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new ImageError("unauthorized", `registry ${ep.host} sent a bearer challenge with a malformed realm`, { registry: ep.host });
    }
    if (url.protocol === "https:" || (url.protocol === "http:" && policy.plainHttpAllowed(url.host))) return;
    throw new ImageError(
      "forbidden_destination",
      `registry ${ep.host} named the token realm ${url.origin}, which is not https; only an allowed insecure registry (--insecure-registry) may use plain http`,
      { registry: ep.host },
    );
  }

  private async backoff(attempt: number, retryAfter: string | null | undefined, deadline: Deadline): Promise<void> {
    const asked = Number(retryAfter) * 1000;
    const ms = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 10_000) : this.retryBaseMs * 2 ** attempt * (0.75 + Math.random() / 2);
    deadline.pause();
    await sleep(ms, deadline.outer);
    deadline.reset();
  }

  private async fetchFollowing(url: string, headers: Record<string, string>, deadline: Deadline): Promise<Response> {
    let current = new URL(url);
    const origin = current.origin;
    for (let hop = 0; hop <= 5; hop++) {
      const res = await this.fetchFn(current, { headers, redirect: "manual", signal: deadline.signal });
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || !location) return res;
      await res.body?.cancel();
      current = new URL(location, current);
      // Blob storage (S3, CDNs) is signed by URL: never send registry credentials there.
      if (current.origin !== origin) delete headers.authorization;
    }
    throw new ImageError("network", `too many redirects fetching ${url}`);
  }
}
