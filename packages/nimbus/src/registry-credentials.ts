/**
 * `nimbus.registryCredentials` (ext): a tenant's credentials for image
 * registries, one per registry host. The tenant's pulls present them; the
 * password goes in once and never comes back.
 */
import { listItems } from "./paging.js";
import { tenantPath } from "./tenant-path.js";
import type { Transport } from "./transport.js";
import type { RegistryCredential } from "./types/registry-credential.js";

type Signal = { signal?: AbortSignal };

/**
 * What to store.
 *
 * @example
 * { registry: "ghcr.io", username: "acme-bot", password: process.env.GHCR_TOKEN! }
 */
export interface SetRegistryCredentialInput extends Signal {
  /** @default the client's tenant */
  tenantId?: string;
  /** `host[:port]`, e.g. `ghcr.io`; Docker Hub is `docker.io`. */
  registry: string;
  username: string;
  /** A password or access token; never returned. */
  password: string;
}

/**
 * A tenant's registry credentials.
 *
 * @example
 * await nimbus.registryCredentials.set({ registry: "ghcr.io", username: "bot", password: token });
 */
export class RegistryCredentialsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Creates or replaces the credentials for a registry; answers what the server keeps (no password).
   *
   * @example
   * const c = await nimbus.registryCredentials.set({ registry: "ghcr.io", username: "bot", password: token });
   */
  async set(input: SetRegistryCredentialInput): Promise<RegistryCredential> {
    const { tenantId, signal, registry, ...json } = input;
    return this.#t.request({ method: "PUT", path: tenantPath(this.#t, tenantId, "registry-credentials", registry), json, signal });
  }

  /**
   * The registries the tenant holds credentials for, without passwords.
   *
   * @example
   * for (const c of await nimbus.registryCredentials.list()) console.log(c.registry, c.username);
   */
  async list(input: { tenantId?: string } & Signal = {}): Promise<RegistryCredential[]> {
    return listItems<RegistryCredential>(this.#t, tenantPath(this.#t, input.tenantId, "registry-credentials"), input.signal);
  }

  /**
   * Removes the credentials for a registry; none stored → `NimbusNotFoundError`.
   *
   * @example
   * await nimbus.registryCredentials.delete({ registry: "ghcr.io" });
   */
  async delete(input: { tenantId?: string; registry: string } & Signal): Promise<void> {
    await this.#t.request({ method: "DELETE", path: tenantPath(this.#t, input.tenantId, "registry-credentials", input.registry), signal: input.signal });
  }
}
