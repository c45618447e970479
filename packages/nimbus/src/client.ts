/**
 * The `Nimbus` client: settings discovery on first use, the request core
 * (auth headers, JSON, typed errors, network errors) and the resource
 * namespaces.
 */
import { discoverSettings, requireConnection, requireTenant, type DiscoveredSettings, type NimbusSettings } from "./discovery.js";
import { NimbusError, fromWire } from "./errors.js";
import { EventsApi } from "./events.js";
import { FilesApi } from "./files.js";
import { ImagesApi, TenantImagesApi } from "./images.js";
import { RegistryCredentialsApi } from "./registry-credentials.js";
import { SandboxesApi } from "./sandboxes.js";
import { SecretsApi } from "./secrets.js";
import { ProcessesApi } from "./processes.js";
import { ServicesApi } from "./services.js";
import { SessionsApi } from "./sessions.js";
import { SystemApi, TenantsApi } from "./tenants.js";
import type { RequestSpec, Transport } from "./transport.js";
import { SDK_VERSION } from "./version.js";

/**
 * Options of {@link Nimbus}. Every setting is optional: what is missing is
 * discovered from `NIMBUS_*` env vars and the credentials file.
 *
 * @example
 * new Nimbus({ endpoint: "http://localhost:8080", tenantId: "demo", token: process.env.NIMBUS_TOKEN });
 */
export interface NimbusOptions extends NimbusSettings {
  /** Replaces the global `fetch` (for tests, proxies, instrumentation). @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

/**
 * The Nimbus client. The constructor never throws; a missing endpoint or
 * credential makes the first request throw a `NimbusConfigError` naming
 * what to set.
 *
 * @example
 * const nimbus = new Nimbus({ tenantId: "demo" });
 * const sandbox = await nimbus.sandboxes.get({ id: "agent-task-01h..." });
 */
export class Nimbus implements Transport {
  /** Sandboxes of a tenant: create, list, wait, exec, logs. */
  readonly sandboxes: SandboxesApi;
  /** Session leases and channel attach. */
  readonly sessions: SessionsApi;
  /** Named, supervised services. */
  readonly services: ServicesApi;
  /** Files inside a sandbox (ext). */
  readonly files: FilesApi;
  /** The tenant lifecycle event stream (ext). */
  readonly events: EventsApi;
  /** Tenants and tenant API keys (admin). */
  readonly tenants: TenantsApi;
  /** Admin token rotation (admin). */
  readonly system: SystemApi;
  /** The server's image store (admin). */
  readonly images: ImagesApi;
  /** The tenant's secrets, used by sandbox egress (ext). */
  readonly secrets: SecretsApi;
  /** The tenant's images: its own pulls and the public ones (ext). */
  readonly tenantImages: TenantImagesApi;
  /** The tenant's registry credentials, used by its pulls (ext). */
  readonly registryCredentials: RegistryCredentialsApi;
  /** Processes started on demand in sandboxes (ext). */
  readonly processes: ProcessesApi;

  readonly #options: NimbusOptions;
  readonly #fetch: typeof globalThis.fetch;
  #found: DiscoveredSettings | undefined;

  constructor(options: NimbusOptions = {}) {
    this.#options = { ...options };
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.sandboxes = new SandboxesApi(this);
    this.sessions = new SessionsApi(this);
    this.services = new ServicesApi(this);
    this.files = new FilesApi(this);
    this.events = new EventsApi(this);
    this.tenants = new TenantsApi(this);
    this.images = new ImagesApi(this);
    this.secrets = new SecretsApi(this);
    this.tenantImages = new TenantImagesApi(this);
    this.registryCredentials = new RegistryCredentialsApi(this);
    this.processes = new ProcessesApi(this);
    this.system = new SystemApi(this, (token) => this.#useToken(token));
  }

  #settings(): DiscoveredSettings {
    this.#found ??= discoverSettings(this.#options);
    return this.#found;
  }

  /** After a rotation the old admin token stops working, so switch to the new one. */
  #useToken(token: string): void {
    const found = this.#settings();
    if (found.credential?.kind === "token") found.credential = { kind: "token", value: token };
  }

  /**
   * The default tenant (from options, `NIMBUS_TENANT_ID` or the credentials file).
   *
   * @example
   * console.log(nimbus.tenantId ?? "no default tenant");
   */
  get tenantId(): string | undefined {
    return this.#settings().tenantId;
  }

  /**
   * The tenant for a call: `perCall` if given, else the client's default.
   * Throws a `NimbusConfigError` naming `tenantId` when there is none.
   *
   * @example
   * nimbus.resolveTenantId("other"); // "other"
   */
  resolveTenantId(perCall?: string): string {
    return requireTenant(perCall, this.#settings());
  }

  /**
   * Sends one request and returns the 2xx `Response`; non-2xx answers throw
   * the typed error rebuilt from the envelope. A low-level escape hatch for
   * routes the SDK does not wrap.
   *
   * @example
   * const res = await nimbus.send({ method: "GET", path: "/openapi.json" });
   */
  async send(spec: RequestSpec): Promise<Response> {
    const { endpoint, credential } = requireConnection(this.#settings(), spec.auth !== false);
    const url = new URL(endpoint + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      "user-agent": `nimbus-sdk/${SDK_VERSION}`,
      accept: spec.accept ?? "application/json",
      ...spec.headers,
    };
    if (spec.auth !== false && credential) {
      if (credential.kind === "token") headers.authorization = `Bearer ${credential.value}`;
      else headers["x-nimbus-api-key"] = credential.value;
    }
    const init: RequestInit & { duplex?: "half" } = { method: spec.method, headers, signal: spec.signal };
    if (spec.json !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(spec.json);
    } else if (spec.body !== undefined) {
      headers["content-type"] ??= "application/octet-stream";
      init.body = spec.body as RequestInit["body"];
      if (typeof spec.body !== "string" && !(spec.body instanceof Uint8Array)) init.duplex = "half";
    }
    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (err) {
      if (spec.signal?.aborted) throw spec.signal.reason ?? err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new NimbusError({
        code: "client.network",
        message: `Could not reach Nimbus at ${endpoint} (${why}); is the server running (\`nimbus start\`) and NIMBUS_ENDPOINT right?`,
        retryable: true,
        cause: err,
      });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      throw fromWire(res.status, text, res.headers.get("x-request-id") ?? undefined);
    }
    return res;
  }

  /**
   * Sends one request and parses the JSON answer; 204 and empty bodies
   * resolve to `undefined`.
   *
   * @example
   * const { tenants } = await nimbus.request<{ tenants: string[] }>({ method: "GET", path: "/api/tenants" });
   */
  async request<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send(spec);
    const text = res.status === 204 ? "" : await res.text();
    if (text.trim() === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new NimbusError({
        code: "client.protocol",
        status: res.status,
        requestId: res.headers.get("x-request-id") ?? undefined,
        message: `Nimbus answered ${spec.method} ${spec.path} with a body that is not JSON`,
        cause,
      });
    }
  }

  /**
   * Checks that the server is up (`GET /health`, no credential sent).
   *
   * @example
   * const { ok } = await nimbus.health();
   */
  health(options: { signal?: AbortSignal } = {}): Promise<{ ok: boolean }> {
    return this.request({ method: "GET", path: "/health", auth: false, signal: options.signal });
  }
}
