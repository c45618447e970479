/**
 * Tenants and tenant API keys (contract §3). A tenant is the isolation
 * boundary: every other entity hangs off one. Deleting a tenant runs the
 * cleanup hooks other entities register (stop sandboxes, close sessions…)
 * before the rows go, so nothing on the host outlives its tenant.
 */
import { randomBytes } from "node:crypto";
import type { TenantStore } from "../store/tenant-store.js";
import { digestSecret, secretMatches } from "../host/admin-token.js";
import { AppError, notFound } from "./errors.js";
import { assertTenantId } from "./ids.js";

export interface ApiKeyView {
  id: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export type TenantCleanup = (tenantId: string) => Promise<void>;

const KEY_PREFIX = "nimbus_ak_";
const KEY_ID_LENGTH = 16;
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export class Tenants {
  private readonly cleanups: TenantCleanup[] = [];
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly store: TenantStore) {}

  onDelete(cleanup: TenantCleanup): void {
    this.cleanups.push(cleanup);
  }

  create(tenantId: string): { id: string } {
    assertTenantId(tenantId);
    if (!this.store.insert(tenantId, new Date().toISOString())) {
      throw new AppError("op.already_exists", `tenant \`${tenantId}\` already exists`, { detail: { id: tenantId } });
    }
    return { id: tenantId };
  }

  list(): string[] {
    return this.store.list().map((t) => t.tenantId);
  }

  exists(tenantId: string): boolean {
    return this.store.get(tenantId) !== undefined;
  }

  /** Throws op.not_found unless the tenant exists. */
  require(tenantId: string): void {
    if (!this.exists(tenantId)) throw notFound("tenant", tenantId);
  }

  async delete(tenantId: string): Promise<void> {
    this.require(tenantId);
    for (const cleanup of this.cleanups) await cleanup(tenantId);
    this.store.delete(tenantId);
  }

  createKey(tenantId: string, name: string | null): ApiKeyView & { key: string } {
    this.require(tenantId);
    const keyId = randomBytes(KEY_ID_LENGTH / 2).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const createdAt = new Date().toISOString();
    this.store.insertKey({ tenantId, keyId, name, secretHash: digestSecret(secret), createdAt, lastUsedAt: null });
    return { id: keyId, key: `${KEY_PREFIX}${keyId}_${secret}`, name, createdAt, lastUsedAt: null };
  }

  listKeys(tenantId: string): ApiKeyView[] {
    this.require(tenantId);
    return this.store.listKeys(tenantId).map(({ keyId, name, createdAt, lastUsedAt }) => ({ id: keyId, name, createdAt, lastUsedAt }));
  }

  revokeKey(tenantId: string, keyId: string): void {
    this.require(tenantId);
    if (!this.store.deleteKey(tenantId, keyId)) throw notFound("api key", keyId, tenantId);
  }

  /** Returns the key's tenant when `presented` is a live key, else undefined. */
  authenticateKey(presented: string): { tenantId: string; keyId: string } | undefined {
    if (!presented.startsWith(KEY_PREFIX)) return undefined;
    const rest = presented.slice(KEY_PREFIX.length);
    const keyId = rest.slice(0, KEY_ID_LENGTH);
    if (rest[KEY_ID_LENGTH] !== "_") return undefined;
    const row = this.store.findKey(keyId);
    if (!row || !secretMatches(rest.slice(KEY_ID_LENGTH + 1), row.secretHash)) return undefined;
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(keyId) ?? 0) > LAST_USED_WRITE_INTERVAL_MS) {
      this.lastUsedWritten.set(keyId, now);
      this.store.touchKey(row.tenantId, keyId, new Date(now).toISOString());
    }
    return { tenantId: row.tenantId, keyId };
  }
}
