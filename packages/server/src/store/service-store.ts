/**
 * Service records: the caller's definition (stored whole, so the supervisor
 * can relaunch after a restart) next to the observed runtime state (which
 * sandbox backs it now, how often it was restarted, how it last ended).
 * Redaction happens when the domain builds the wire view, never here.
 */
import type { ServiceSpec, ServiceState } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { keysetPage, tenantFilter } from "./paging.js";
import { json, rowCodec } from "./row-codec.js";
import { versionedUpdate } from "./versioned-update.js";
import { versionedInsert } from "./versioned-insert.js";
import { currentResourceVersion, statement } from "./db.js";
import { getByKey, deleteByKey, type TenantKeyedTable } from "./tenant-keyed.js";
/** Records are keyed (tenant_id, name). */
const TABLE: TenantKeyedTable = { table: "services", keyColumn: "name" };

export interface ServiceRow {
  tenantId: string;
  name: string;
  generation: number;
  resourceVersion: string;
  createdAt: string;
  updatedAt: string;
  labels: Record<string, string>;
  /** The definition's spec as given (the SDK's wire type). */
  spec: ServiceSpec;
  state: ServiceState;
  stateChangedAt: string;
  sandboxId: string | null;
  restartCount: number;
  exitCode: number | null;
  message: string | null;
}

/** Where each field is stored: labels and spec as JSON text. */
const CODEC = rowCodec<ServiceRow>({
  tenantId: "tenant_id",
  name: "name",
  generation: "generation",
  resourceVersion: "resource_version",
  createdAt: "created_at",
  updatedAt: "updated_at",
  labels: json("labels"),
  spec: json("spec"),
  state: "state",
  stateChangedAt: "state_changed_at",
  sandboxId: "sandbox_id",
  restartCount: "restart_count",
  exitCode: "exit_code",
  message: "message",
});

export type ServicePatch = Partial<
  Pick<ServiceRow, "generation" | "labels" | "spec" | "state" | "stateChangedAt" | "sandboxId" | "restartCount" | "exitCode" | "message">
>;

export class ServiceStore {
  constructor(private readonly db: Db) {}

  /** Undefined when the name is taken. */
  insert(row: Omit<ServiceRow, "resourceVersion">): ServiceRow | undefined {
    return this.db.transaction(() => {
      const { resourceVersion, inserted } = versionedInsert(this.db, "services", CODEC.columns(row), "ON CONFLICT (tenant_id, name) DO NOTHING");
      return inserted ? { ...row, resourceVersion } : undefined;
    })();
  }

  resourceVersion(): string {
    return currentResourceVersion(this.db);
  }

  get(tenantId: string, name: string): ServiceRow | undefined {
    return getByKey(this.db, TABLE, tenantId, name, CODEC.fromRaw);
  }

  /**
   * Apply a patch and bump resourceVersion/updatedAt in one statement. With
   * `ifGeneration`, only when the stored generation still equals it
   * (undefined otherwise: the caller lost a race).
   */
  update(tenantId: string, name: string, patch: ServicePatch, ifGeneration?: number): ServiceRow | undefined {
    const where = ifGeneration === undefined ? "tenant_id = ? AND name = ?" : "tenant_id = ? AND name = ? AND generation = ?";
    const r = versionedUpdate(this.db, "services", CODEC.columns(patch), where, ifGeneration === undefined ? [tenantId, name] : [tenantId, name, ifGeneration]);
    return r && CODEC.fromRaw(r);
  }

  delete(tenantId: string, name: string): boolean {
    return deleteByKey(this.db, TABLE, tenantId, name);
  }

  list(tenantId: string, q: { limit: number; pageToken?: string }): { items: ServiceRow[]; remaining: number } {
    const page = keysetPage(this.db, "services", "name", { ...tenantFilter(tenantId), limit: q.limit, pageToken: q.pageToken });
    return { items: CODEC.fromRows(page.rows), remaining: page.remaining };
  }

  namesOfTenant(tenantId: string): string[] {
    return (statement(this.db, "SELECT name FROM services WHERE tenant_id = ? ORDER BY name").all(tenantId) as Array<{ name: string }>).map((r) => r.name);
  }

  /** Every service of every tenant in one of the states: the supervisor's boot view. */
  allInStates(states: readonly string[]): ServiceRow[] {
    const marks = states.map(() => "?").join(", ");
    return CODEC.fromRows(statement(this.db, `SELECT * FROM services WHERE state IN (${marks})`).all(...states));
  }
}
