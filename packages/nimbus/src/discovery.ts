/**
 * Settings discovery (contract §7). Each setting is taken from the first
 * source that has it: constructor options, then environment variables,
 * then the application-default credentials file. Nothing here throws for a
 * missing setting; {@link requireConnection} does, at the first request.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { NimbusConfigError } from "./errors.js";

/**
 * The settings a client can be given directly.
 *
 * @example
 * const s: NimbusSettings = { endpoint: "http://localhost:8080", token: process.env.NIMBUS_TOKEN };
 */
export interface NimbusSettings {
  /** Base URL of the server. Env: `NIMBUS_ENDPOINT`. */
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
 * credentials file, in that order, setting by setting. The file is read only
 * when options and env leave something unset.
 *
 * @example
 * const found = discoverSettings({ tenantId: "demo" }, process.env);
 */
export function discoverSettings(options: NimbusSettings, env: NodeJS.ProcessEnv = process.env): DiscoveredSettings {
  const problems: string[] = [];
  const credentialsFile = credentialsFilePath(env);
  let endpoint = nonEmpty(options.endpoint) ?? nonEmpty(env.NIMBUS_ENDPOINT);
  let tenantId = nonEmpty(options.tenantId) ?? nonEmpty(env.NIMBUS_TENANT_ID);
  let credential = credentialOf(options.token, undefined, options.apiKey) ?? credentialOf(env.NIMBUS_TOKEN, env.NIMBUS_BEARER_TOKEN, env.NIMBUS_API_KEY);
  if (!endpoint || !tenantId || !credential) {
    const file = readCredentialsFile(credentialsFile, Boolean(env.NIMBUS_APPLICATION_CREDENTIALS), problems);
    endpoint ??= nonEmpty(file.endpoint);
    tenantId ??= nonEmpty(file.tenantId);
    credential ??= credentialOf(file.token, undefined, file.apiKey);
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
      "No Nimbus endpoint configured: pass `endpoint` to new Nimbus({ endpoint }), set NIMBUS_ENDPOINT " +
        `(e.g. http://localhost:8080), or add "endpoint" to ${found.credentialsFile} (NIMBUS_APPLICATION_CREDENTIALS).`,
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
