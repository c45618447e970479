/**
 * Tenant secrets (issue 17): set, listed without values, removed; values are
 * sealed at rest (host/secret-box.ts) and never returned or logged. The egress
 * proxy asks `boundFor` for the values a sandbox's spec names, and puts them
 * into requests to the secrets' hosts only (egress-secrets.ts); the sandbox
 * itself only ever sees placeholders.
 */
import type { Secret } from "@nimbus/nimbus";
import type { SecretStore } from "../store/secret-store.js";
import type { SecretBox } from "../host/secret-box.js";
import { notFound } from "./errors.js";
import { checkSecret, type BoundSecret } from "./egress-secrets.js";
import { replaceRecord } from "./replace-record.js";

export interface SecretInput {
  name: string;
  value: string;
  hosts: string[];
  /** @default "Authorization" */
  header?: string;
  /** @default "Bearer {value}" */
  format?: string;
}

/** What the API shows of a secret, everything but the value: the SDK's wire type. */
export type SecretView = Secret;

const context = (tenantId: string, name: string) => `${tenantId}:${name}`;

export class Secrets {
  constructor(private readonly deps: { store: SecretStore; box: SecretBox }) {}

  /** Creates or replaces; `created` says which. */
  set(tenantId: string, input: SecretInput): { view: SecretView; created: boolean } {
    checkSecret(input);
    const fields = {
      tenantId,
      name: input.name,
      sealedValue: this.deps.box.seal(input.value, context(tenantId, input.name)),
      hosts: input.hosts.map((h) => h.toLowerCase()),
      header: input.header ?? "Authorization",
      format: input.format ?? "Bearer {value}",
    };
    return replaceRecord(this.deps.store, input.name, fields, viewOf);
  }

  list(tenantId: string): SecretView[] {
    return this.deps.store.list(tenantId).map(viewOf);
  }

  delete(tenantId: string, name: string): void {
    if (!this.deps.store.delete(tenantId, name)) throw notFound("secret", name, tenantId);
  }

  /** The values of the named secrets, for the egress proxy; names that do not exist are skipped. */
  boundFor(tenantId: string, names: string[]): BoundSecret[] {
    return names.flatMap((name) => {
      const row = this.deps.store.get(tenantId, name);
      if (!row) return [];
      return [{ name, value: this.deps.box.open(row.sealedValue, context(tenantId, name)), hosts: row.hosts, header: row.header, format: row.format }];
    });
  }
}

function viewOf(r: { name: string; hosts: string[]; header: string; format: string; createdAt: string; updatedAt: string }): SecretView {
  return { name: r.name, hosts: r.hosts, header: r.header, format: r.format, createdAt: r.createdAt, updatedAt: r.updatedAt };
}
