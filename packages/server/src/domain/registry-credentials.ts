/**
 * A tenant's registry credentials (issue 15, finding 18): one username and
 * password per registry host, the password sealed at rest with the data
 * dir's key (host/secret-box.ts) and never returned or logged. Pulls made for
 * the tenant present these, and only these: the operator's credentials never
 * serve a tenant's pull.
 */
import type { Credentials, RegistryAuthContext } from "../images/index.js";
import type { SecretBox } from "../host/secret-box.js";
import type { RegistryCredentialRow, RegistryCredentialStore } from "../store/registry-credential-store.js";
import { replaceRecord } from "./replace-record.js";
import { invalidInput, notFound } from "./errors.js";

/** What the API shows: everything but the password. */
export interface RegistryCredentialView {
  registry: string;
  username: string;
  createdAt: string;
  updatedAt: string;
}

const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$/;
/** Docker Hub answers under several names; one row serves them all. */
const HUB_NAMES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** The canonical registry host: lower case, Docker Hub's names folded to `docker.io`. */
export function registryHost(input: string): string {
  const host = input.trim().toLowerCase();
  if (!HOST.test(host)) throw invalidInput(`\`${input}\` is not a registry host; give host or host:port, e.g. ghcr.io`, { field: "registry" });
  return HUB_NAMES.has(host) ? "docker.io" : host;
}

const context = (tenantId: string, registry: string) => `registry:${tenantId}:${registry}`;

export class RegistryCredentials {
  constructor(private readonly deps: { store: RegistryCredentialStore; box: SecretBox }) {}

  /** Creates or replaces; `created` says which. */
  set(tenantId: string, registry: string, input: Credentials): { view: RegistryCredentialView; created: boolean } {
    const host = registryHost(registry);
    const sealedPassword = this.deps.box.seal(input.password, context(tenantId, host));
    return replaceRecord(this.deps.store, host, { tenantId, registry: host, username: input.username, sealedPassword }, viewOf);
  }

  list(tenantId: string): RegistryCredentialView[] {
    return this.deps.store.list(tenantId).map(viewOf);
  }

  delete(tenantId: string, registry: string): void {
    const host = registryHost(registry);
    if (!this.deps.store.delete(tenantId, host)) throw notFound("registry credential", host, tenantId);
  }

  /**
   * Whose credentials a pull for this tenant presents. The scope names the
   * credentials' versions, so a token cached for old credentials (or another
   * tenant's) is never reused.
   */
  authFor(tenantId: string): RegistryAuthContext {
    const rows = new Map(this.deps.store.list(tenantId).map((r) => [r.registry, r]));
    const version = [...rows.values()].map((r) => `${r.registry}@${r.updatedAt}`).join(",");
    return {
      scope: `tenant:${tenantId}:${version}`,
      credentials: (host) => {
        const row = rows.get(HUB_NAMES.has(host) ? "docker.io" : host);
        return row && { username: row.username, password: this.deps.box.open(row.sealedPassword, context(tenantId, row.registry)) };
      },
      loginHint: (host) => `store the tenant's credentials for it with \`nimbus registry login ${host} --username NAME\` (password on stdin)`,
    };
  }
}

function viewOf(r: RegistryCredentialRow): RegistryCredentialView {
  return { registry: r.registry, username: r.username, createdAt: r.createdAt, updatedAt: r.updatedAt };
}
