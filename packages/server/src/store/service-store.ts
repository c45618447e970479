/**
 * Service records: the caller's definition (stored whole, so the supervisor
 * can relaunch after a restart) next to the observed runtime state (which
 * sandbox backs it now, how often it was restarted, how it last ended).
 * Redaction happens when the domain builds the wire view, never here.
 */
import type { ServiceSpec, ServiceState } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { keysetPage } from "./paging.js";
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

interface RawRow {
  tenant_id: string;
  name: string;
  generation: number;
  resource_version: string;
  created_at: string;
  updated_at: string;
  labels: string;
  spec: string;
  state: ServiceState;
  state_changed_at: string;
  sandbox_id: string | null;
  restart_count: number;
  exit_code: number | null;
  message: string | null;
}

function fromRaw(r: RawRow): ServiceRow {
  return {
    tenantId: r.tenant_id,
    name: r.name,
    generation: r.generation,
    resourceVersion: r.resource_version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    labels: JSON.parse(r.labels),
    spec: JSON.parse(r.spec),
    state: r.state,
    stateChangedAt: r.state_changed_at,
    sandboxId: r.sandbox_id,
    restartCount: r.restart_count,
    exitCode: r.exit_code,
    message: r.message,
  };
}

export type ServicePatch = Partial<
  Pick<ServiceRow, "generation" | "labels" | "spec" | "state" | "stateChangedAt" | "sandboxId" | "restartCount" | "exitCode" | "message">
>;

const COLUMN: Record<keyof ServicePatch, string> = {
  generation: "generation",
  labels: "labels",
  spec: "spec",
  state: "state",
  stateChangedAt: "state_changed_at",
  sandboxId: "sandbox_id",
  restartCount: "restart_count",
  exitCode: "exit_code",
  message: "message",
};

export class ServiceStore {
  constructor(private readonly db: Db) {}

  /** Undefined when the name is taken. */
  insert(row: Omit<ServiceRow, "resourceVersion">): ServiceRow | undefined {
    return this.db.transaction(() => {
      const { resourceVersion, inserted } = versionedInsert(
        this.db,
        "services",
        {
          tenant_id: row.tenantId,
          name: row.name,
          generation: row.generation,
          created_at: row.createdAt,
          updated_at: row.updatedAt,
          labels: JSON.stringify(row.labels),
          spec: JSON.stringify(row.spec),
          state: row.state,
          state_changed_at: row.stateChangedAt,
          sandbox_id: row.sandboxId,
          restart_count: row.restartCount,
          exit_code: row.exitCode,
          message: row.message,
        },
        "ON CONFLICT (tenant_id, name) DO NOTHING",
      );
      return inserted ? { ...row, resourceVersion } : undefined;
    })();
  }

  resourceVersion(): string {
    return currentResourceVersion(this.db);
  }

  get(tenantId: string, name: string): ServiceRow | undefined {
    return getByKey(this.db, TABLE, tenantId, name, fromRaw);
  }

  /**
   * Apply a patch and bump resourceVersion/updatedAt in one statement. With
   * `ifGeneration`, only when the stored generation still equals it
   * (undefined otherwise: the caller lost a race).
   */
  update(tenantId: string, name: string, patch: ServicePatch, ifGeneration?: number): ServiceRow | undefined {
    const columns: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch) as Array<[keyof ServicePatch, unknown]>) {
      columns[COLUMN[k]] = k === "labels" || k === "spec" ? JSON.stringify(v) : v;
    }
    const where = ifGeneration === undefined ? "tenant_id = ? AND name = ?" : "tenant_id = ? AND name = ? AND generation = ?";
    const r = versionedUpdate<RawRow>(this.db, "services", columns, where, ifGeneration === undefined ? [tenantId, name] : [tenantId, name, ifGeneration]);
    return r && fromRaw(r);
  }

  delete(tenantId: string, name: string): boolean {
    return deleteByKey(this.db, TABLE, tenantId, name);
  }

  list(tenantId: string, q: { limit: number; pageToken?: string }): { items: ServiceRow[]; remaining: number } {
    const page = keysetPage<RawRow>(this.db, "services", "name", { where: ["tenant_id = ?"], args: [tenantId], limit: q.limit, pageToken: q.pageToken });
    return { items: page.rows.map(fromRaw), remaining: page.remaining };
  }

  namesOfTenant(tenantId: string): string[] {
    return (statement(this.db, "SELECT name FROM services WHERE tenant_id = ? ORDER BY name").all(tenantId) as Array<{ name: string }>).map((r) => r.name);
  }

  /** Every service of every tenant in one of the states: the supervisor's boot view. */
  allInStates(states: readonly string[]): ServiceRow[] {
    const marks = states.map(() => "?").join(", ");
    return (statement(this.db, `SELECT * FROM services WHERE state IN (${marks})`).all(...states) as RawRow[]).map(fromRaw);
  }
}
