/**
 * `nimbus.secrets` (ext): a tenant's secrets. A value goes in once and never
 * comes back; a sandbox that names a secret sees only the placeholder
 * `nimbus-secret://NAME`, and the server's egress proxy puts the value into
 * requests to the secret's hosts.
 */
import { listItems } from "./paging.js";
import { tenantPath } from "./tenant-path.js";
import type { Transport } from "./transport.js";
import type { Secret } from "./types/secret.js";

type Signal = { signal?: AbortSignal };

/**
 * What to store.
 *
 * @example
 * { name: "OPENAI", value: process.env.OPENAI_API_KEY!, hosts: ["api.openai.com"] }
 */
export interface SetSecretInput extends Signal {
  /** @default the client's tenant */
  tenantId?: string;
  /** A-Z, 0-9 and _, starting with a letter. */
  name: string;
  value: string;
  hosts: string[];
  /** @default "Authorization" */
  header?: string;
  /** @default "Bearer {value}" */
  format?: string;
}

/**
 * Tenant secrets.
 *
 * @example
 * await nimbus.secrets.set({ name: "OPENAI", value: key, hosts: ["api.openai.com"] });
 */
export class SecretsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Creates or replaces a secret; answers what the server keeps (without the value).
   *
   * @example
   * const s = await nimbus.secrets.set({ name: "GITHUB", value: token, hosts: ["api.github.com"], format: "token {value}" });
   */
  async set(input: SetSecretInput): Promise<Secret> {
    const { tenantId, signal, ...json } = input;
    return this.#t.request({ method: "POST", path: tenantPath(this.#t, tenantId, "secrets"), json, signal });
  }

  /**
   * The tenant's secrets, by name, without values.
   *
   * @example
   * for (const s of await nimbus.secrets.list()) console.log(s.name, s.hosts);
   */
  async list(input: { tenantId?: string } & Signal = {}): Promise<Secret[]> {
    return listItems<Secret>(this.#t, tenantPath(this.#t, input.tenantId, "secrets"), input.signal);
  }

  /**
   * Removes a secret; a name that does not exist → `NimbusNotFoundError`.
   *
   * @example
   * await nimbus.secrets.delete({ name: "OPENAI" });
   */
  async delete(input: { tenantId?: string; name: string } & Signal): Promise<void> {
    await this.#t.request({ method: "DELETE", path: tenantPath(this.#t, input.tenantId, "secrets", input.name), signal: input.signal });
  }
}
