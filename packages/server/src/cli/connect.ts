/**
 * How CLI commands reach the server: endpoint from --endpoint, then
 * NIMBUS_ENDPOINT, then the discovery file of a running `nimbus start`, then
 * http://127.0.0.1:8080; credential from NIMBUS_TOKEN / NIMBUS_API_KEY, then
 * the local admin token file. The SDK does the talking.
 */
import { Nimbus } from "@nimbus/nimbus";
import { adminTokenPath, discoveryFilePath } from "../host/paths.js";
import { readAdminToken } from "../host/admin-token.js";
import { readDiscovery } from "../host/discovery.js";
import type { CliIo, OptionDef } from "./command.js";

export const CONNECTION_OPTIONS: Record<string, OptionDef> = {
  endpoint: { type: "string", help: "server URL", env: "NIMBUS_ENDPOINT", default: "the running server, else http://127.0.0.1:8080" },
};

export const TENANT_OPTION: Record<string, OptionDef> = {
  tenant: { type: "string", short: "T", help: "tenant to act in (NIMBUS_TENANT_ID is read too)", env: "NIMBUS_TENANT" },
};

/** The options of every command that acts in a tenant: which server, and which tenant. */
export const TENANT_CONNECTION_OPTIONS: Record<string, OptionDef> = { ...CONNECTION_OPTIONS, ...TENANT_OPTION };

/** The tenant of `--tenant`/`-T`, else NIMBUS_TENANT, else NIMBUS_TENANT_ID (the SDK's name). */
export function tenantFrom(io: CliIo, flag: unknown): string | undefined {
  return typeof flag === "string" ? flag : io.env.NIMBUS_TENANT || io.env.NIMBUS_TENANT_ID || undefined;
}

export function resolveEndpoint(io: CliIo, flag?: string): string {
  return flag ?? io.env.NIMBUS_ENDPOINT ?? readDiscovery(discoveryFilePath(io.env))?.address ?? "http://127.0.0.1:8080";
}

export function connect(io: CliIo, values: { endpoint?: unknown; tenant?: unknown }): { client: Nimbus; endpoint: string } {
  const endpoint = resolveEndpoint(io, typeof values.endpoint === "string" ? values.endpoint : undefined);
  const apiKey = io.env.NIMBUS_API_KEY;
  const token = io.env.NIMBUS_TOKEN ?? io.env.NIMBUS_BEARER_TOKEN ?? (apiKey ? undefined : readAdminToken(adminTokenPath(io.env))?.token);
  const tenantId = tenantFrom(io, values.tenant);
  const client = new Nimbus({ endpoint, ...(token ? { token } : { apiKey }), ...(tenantId ? { tenantId } : {}) });
  return { client, endpoint };
}
