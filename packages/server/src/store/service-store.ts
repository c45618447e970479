/**
 * Service records: the caller's definition (stored whole, so the supervisor
 * can relaunch after a restart) next to the observed runtime state (which
 * sandbox backs it now, how often it was restarted, how it last ended).
 * Redaction happens when the domain builds the wire view, never here.
 */
import type { ServiceSpec, ServiceState } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { keysetPage, tenantFilter } from "./paging.js";
import { rowCodec } from "./row-codec.js";
import type { VersionedRecord } from "./record-fields.js";
import { statement } from "./db.js";
import type { TenantKeyedTable } from "./tenant-keyed.js";
import { VersionedRecords } from "./versioned-records.js";
/** Records are keyed (tenant_id, name). */
const TABLE: TenantKeyedTable = { table: "services", keyColumn: "name" };

export interface ServiceRow extends VersionedRecord {
  name: string;
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
const CODEC = rowCodec<ServiceRow>({ json: ["labels", "spec"] });

export type ServicePatch = Partial<
  Pick<ServiceRow, "generation" | "labels" | "spec" | "state" | "stateChangedAt" | "sandboxId" | "restartCount" | "exitCode" | "message">
>;

export class ServiceStore extends VersionedRecords<ServiceRow> {
  constructor(db: Db) {
    super(db, TABLE, CODEC);
  }

  /** Undefined when the name is taken. */
  insert(row: Omit<ServiceRow, "resourceVersion">): ServiceRow | undefined {
    return this.db.transaction(() => this.insertVersioned(row, "ON CONFLICT (tenant_id, name) DO NOTHING"))();
  }

  /**
   * Apply a patch and bump resourceVersion/updatedAt in one statement. With
   * `ifGeneration`, only when the stored generation still equals it
   * (undefined otherwise: the caller lost a race).
   */
  update(tenantId: string, name: string, patch: ServicePatch, ifGeneration?: number): ServiceRow | undefined {
    const where = ifGeneration === undefined ? "tenant_id = ? AND name = ?" : "tenant_id = ? AND name = ? AND generation = ?";
    return this.updateWhere(patch, where, ifGeneration === undefined ? [tenantId, name] : [tenantId, name, ifGeneration]);
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
