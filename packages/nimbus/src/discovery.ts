/**
 * Settings discovery (contract §7). Each setting is taken from the first
 * source that has it: constructor options, then environment variables,
 * then the application-default credentials file. Nothing here throws for a
 * missing setting; {@link requireConnection} does, at the first request.
 */
import { readFileSync } from "node:fs";
import { homedir, platform } from "node:os";
import { join } from "node:path";
import { NimbusConfigError } from "./errors.js";

/**
 * The settings a client can be given directly.
 *
 * @example
 * const s: NimbusSettings = { endpoint: "http://localhost:8080", token: process.env.NIMBUS_TOKEN };
 */
export interface NimbusSettings {
  /** Base URL of the server. Env: `NIMBUS_ENDPOINT` (or `NIMBUS_URL`). */
  endpoint?: string;
  /** Default tenant for tenant-scoped calls. Env: `NIMBUS_TENANT_ID`. */
  tenantId?: string;
  /** Admin token, sent as `Authorization: Bearer`. Env: `NIMBUS_TOKEN`, `NIMBUS_BEARER_TOKEN`. */
  token?: string;
  /** Tenant API key, sent as `X-Nimbus-Api-Key`. Env: `NIMBUS_API_KEY`. */
  apiKey?: string;
}

/**
 * The credential a client authenticates with.
 *
 * @example
 * const c: Credential = { kind: "token", value: "nimbus_at_..." };
 */
export interface Credential {
  kind: "token" | "apiKey";
  value: string;
}

/**
 * What discovery found. `problems` lists configuration errors (such as an
 * unreadable credentials file) to report at the first request.
 *
 * @example
 * const found = discoverSettings({}, process.env);
 * if (!found.endpoint) console.log("no endpoint configured");
 */
export interface DiscoveredSettings {
  endpoint?: string;
  tenantId?: string;
  credential?: Credential;
  credentialsFile: string;
  problems: string[];
}

/**
 * The default credentials file path, honouring `NIMBUS_APPLICATION_CREDENTIALS`.
 *
 * @default `~/.config/nimbus/application_default_credentials.json`
 * @example
 * credentialsFilePath(process.env); // "/home/me/.config/nimbus/application_default_credentials.json"
 */
export function credentialsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.NIMBUS_APPLICATION_CREDENTIALS;
  if (explicit) return explicit;
  return join(homedir(), ".config", "nimbus", "application_default_credentials.json");
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function credentialOf(token: unknown, bearer: unknown, apiKey: unknown): Credential | undefined {
  const t = nonEmpty(token) ?? nonEmpty(bearer);
  if (t) return { kind: "token", value: t };
  const k = nonEmpty(apiKey);
  return k ? { kind: "apiKey", value: k } : undefined;
}

/** The per-user dir where a local `nimbus start` keeps its admin token and discovery record (the server's host/paths.ts). */
function nimbusUserDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "nimbus");
  if (platform() === "darwin") return join(homedir(), "Library", "Application Support", "nimbus");
  return join(env.HOME || homedir(), ".local", "share", "nimbus");
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: unknown): boolean {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A server started on this machine by this user: the address it recorded
 * (`server.json`, while its process lives) and the admin token it minted.
 * The last source, so `new Nimbus()` with nothing set reaches a local server.
 */
function localServer(env: NodeJS.ProcessEnv): NimbusSettings {
  const dir = nimbusUserDir(env);
  const record = readJson(join(dir, "server.json"));
  const token = readJson(join(dir, "auth", "token"))?.token;
  return {
    ...(record && alive(record.pid) && typeof record.address === "string" ? { endpoint: record.address } : {}),
    ...(typeof token === "string" ? { token } : {}),
  };
}

function readCredentialsFile(path: string, explicit: boolean, problems: string[]): NimbusSettings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The default file is optional; a path the user named must exist.
    if (explicit || code !== "ENOENT") {
      problems.push(`cannot read the credentials file ${path} (${code ?? String(err)}); fix NIMBUS_APPLICATION_CREDENTIALS`);
    }
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as NimbusSettings;
  } catch {
    problems.push(`the credentials file ${path} is not a JSON object like {"endpoint","token"|"apiKey","tenantId"}`);
    return {};
  }
}

/**
 * Resolves endpoint, credential and tenant from options, env and the
 * credentials file, in that order, setting by setting, and last from a server
 * running on this machine (its recorded address and admin token). The files
 * are read only when options and env leave something unset.
 *
 * @example
 * const found = discoverSettings({ tenantId: "demo" }, process.env);
 */
export function discoverSettings(options: NimbusSettings, env: NodeJS.ProcessEnv = process.env): DiscoveredSettings {
  const problems: string[] = [];
  const credentialsFile = credentialsFilePath(env);
  let endpoint = nonEmpty(options.endpoint) ?? nonEmpty(env.NIMBUS_ENDPOINT) ?? nonEmpty(env.NIMBUS_URL);
  let tenantId = nonEmpty(options.tenantId) ?? nonEmpty(env.NIMBUS_TENANT_ID);
  let credential = credentialOf(options.token, undefined, options.apiKey) ?? credentialOf(env.NIMBUS_TOKEN, env.NIMBUS_BEARER_TOKEN, env.NIMBUS_API_KEY);
  if (!endpoint || !tenantId || !credential) {
    const file = readCredentialsFile(credentialsFile, Boolean(env.NIMBUS_APPLICATION_CREDENTIALS), problems);
    endpoint ??= nonEmpty(file.endpoint);
    tenantId ??= nonEmpty(file.tenantId);
    credential ??= credentialOf(file.token, undefined, file.apiKey);
  }
  if (!endpoint || !credential) {
    const local = localServer(env);
    // The local token goes only to the local server's address, never to an endpoint set elsewhere.
    if (!endpoint && local.endpoint) {
      endpoint = local.endpoint;
      credential ??= credentialOf(local.token, undefined, undefined);
    }
  }
  if (endpoint) {
    try {
      const url = new URL(endpoint);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
      endpoint = endpoint.replace(/\/+$/, "");
    } catch {
      problems.push(`the endpoint "${endpoint}" is not an http(s) URL such as http://localhost:8080`);
    }
  }
  return { endpoint, tenantId, credential, credentialsFile, problems };
}

/**
 * Returns the endpoint and credential, or throws a {@link NimbusConfigError}
 * naming the options and env vars to set. With `needCredential` false only
 * the endpoint is required (for `GET /health`).
 *
 * @example
 * const { endpoint, credential } = requireConnection(discoverSettings({}));
 */
export function requireConnection(found: DiscoveredSettings, needCredential = true): { endpoint: string; credential?: Credential } {
  if (found.problems.length > 0) throw new NimbusConfigError(`Nimbus is misconfigured: ${found.problems.join("; ")}.`);
  if (!found.endpoint) {
    throw new NimbusConfigError(
      "No Nimbus endpoint configured and no local server found: pass `endpoint` to new Nimbus({ endpoint }), set NIMBUS_ENDPOINT " +
        `(e.g. http://localhost:8080), add "endpoint" to ${found.credentialsFile} (NIMBUS_APPLICATION_CREDENTIALS), or run \`nimbus start\` on this machine.`,
    );
  }
  if (!found.credential && needCredential) {
    throw new NimbusConfigError(
      "No Nimbus credential configured: pass `token` or `apiKey` to new Nimbus({ token }), set NIMBUS_TOKEN, " +
        `NIMBUS_BEARER_TOKEN or NIMBUS_API_KEY, or add "token" or "apiKey" to ${found.credentialsFile} ` +
        "(NIMBUS_APPLICATION_CREDENTIALS). The admin token is printed by `nimbus auth token`.",
    );
  }
  return { endpoint: found.endpoint, credential: found.credential };
}

/**
 * Picks the tenant for a tenant-scoped call: the per-call value, else the
 * discovered default; throws a {@link NimbusConfigError} naming `tenantId`.
 *
 * @example
 * const t = requireTenant(undefined, found); // found.tenantId or throws
 */
export function requireTenant(perCall: string | undefined, found: DiscoveredSettings): string {
  const tenant = perCall ?? found.tenantId;
  if (tenant === undefined || tenant === "") {
    throw new NimbusConfigError(
      "This call needs a tenant: pass `tenantId` to the call or to new Nimbus({ tenantId }), set NIMBUS_TENANT_ID, " +
        `or add "tenantId" to ${found.credentialsFile}.`,
    );
  }
  return tenant;
}
