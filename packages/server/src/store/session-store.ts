/**
 * Session lease records (contract §5). The target as asked, the snapshot of
 * what it resolved to, and the sandbox id the lease rides on (for a service
 * target too) so a stopping sandbox finds its sessions in one indexed query.
 * Timestamps are RFC 3339 UTC strings, which sort like the instants they name.
 */
import type { SessionChannel, SessionState, TargetSnapshot } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { keysetPage } from "./paging.js";
import { versionedUpdate } from "./versioned-update.js";
import { versionedInsert } from "./versioned-insert.js";
import { currentResourceVersion, statement } from "./db.js";
import { getByKey, deleteByKey, type TenantKeyedTable } from "./tenant-keyed.js";
/** Records are keyed (tenant_id, session_id). */
const TABLE: TenantKeyedTable = { table: "sessions", keyColumn: "session_id" };

export type SessionTargetRecord = { sandbox: { id: string } } | { service: { name: string } };

export type TargetSnapshotRecord = TargetSnapshot;

export interface SessionRow {
  tenantId: string;
  id: string;
  generation: number;
  resourceVersion: string;
  createdAt: string;
  updatedAt: string;
  target: SessionTargetRecord;
  targetSnapshot: TargetSnapshotRecord;
  targetSandboxId: string;
  serviceName: string | null;
  channels: SessionChannel[];
  lifecycleState: SessionState;
  expiresAt: string;
  stateChangedAt: string;
  closedAt: string | null;
  closeReason: string | null;
}

interface RawRow {
  tenant_id: string;
  session_id: string;
  generation: number;
  resource_version: string;
  created_at: string;
  updated_at: string;
  target: string;
  target_snapshot: string;
  target_sandbox_id: string;
  service_name: string | null;
  channels: string;
  lifecycle_state: SessionState;
  expires_at: string;
  state_changed_at: string;
  closed_at: string | null;
  close_reason: string | null;
}

function fromRaw(r: RawRow): SessionRow {
  return {
    tenantId: r.tenant_id,
    id: r.session_id,
    generation: r.generation,
    resourceVersion: r.resource_version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    target: JSON.parse(r.target),
    targetSnapshot: JSON.parse(r.target_snapshot),
    targetSandboxId: r.target_sandbox_id,
    serviceName: r.service_name,
    channels: JSON.parse(r.channels),
    lifecycleState: r.lifecycle_state,
    expiresAt: r.expires_at,
    stateChangedAt: r.state_changed_at,
    closedAt: r.closed_at,
    closeReason: r.close_reason,
  };
}

export type SessionPatch = Partial<Pick<SessionRow, "generation" | "lifecycleState" | "expiresAt" | "stateChangedAt" | "closedAt" | "closeReason">>;

const COLUMN: Record<keyof SessionPatch, string> = {
  generation: "generation",
  lifecycleState: "lifecycle_state",
  expiresAt: "expires_at",
  stateChangedAt: "state_changed_at",
  closedAt: "closed_at",
  closeReason: "close_reason",
};

export interface SessionListQuery {
  limit: number;
  pageToken?: string;
  status?: string;
}

export class SessionStore {
  constructor(private readonly db: Db) {}

  insert(row: Omit<SessionRow, "resourceVersion">): SessionRow {
    return this.db.transaction(() => {
      const { resourceVersion } = versionedInsert(this.db, "sessions", {
        tenant_id: row.tenantId,
        session_id: row.id,
        generation: row.generation,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
        target: JSON.stringify(row.target),
        target_snapshot: JSON.stringify(row.targetSnapshot),
        target_sandbox_id: row.targetSandboxId,
        service_name: row.serviceName,
        channels: JSON.stringify(row.channels),
        lifecycle_state: row.lifecycleState,
        expires_at: row.expiresAt,
        state_changed_at: row.stateChangedAt,
        closed_at: row.closedAt,
        close_reason: row.closeReason,
      });
      return { ...row, resourceVersion };
    })();
  }

  resourceVersion(): string {
    return currentResourceVersion(this.db);
  }

  get(tenantId: string, id: string): SessionRow | undefined {
    return getByKey(this.db, TABLE, tenantId, id, fromRaw);
  }

  /**
   * Apply a patch and bump resourceVersion/updatedAt, only while the record
   * is still in `whileState` (so two writers cannot both end one lease).
   */
  update(tenantId: string, id: string, whileState: string, patch: SessionPatch): SessionRow | undefined {
    const columns: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch) as Array<[keyof SessionPatch, unknown]>) columns[COLUMN[k]] = v;
    const r = versionedUpdate<RawRow>(this.db, "sessions", columns, "tenant_id = ? AND session_id = ? AND lifecycle_state = ?", [tenantId, id, whileState]);
    return r && fromRaw(r);
  }

  list(tenantId: string, q: SessionListQuery): { items: SessionRow[]; remaining: number } {
    const where = ["tenant_id = ?"];
    const args: unknown[] = [tenantId];
    if (q.status) {
      where.push("lifecycle_state = ?");
      args.push(q.status);
    }
    const page = keysetPage<RawRow>(this.db, "sessions", "session_id", { where, args, limit: q.limit, pageToken: q.pageToken });
    return { items: page.rows.map(fromRaw), remaining: page.remaining };
  }

  /** Sessions in `state` riding on one sandbox of the tenant. */
  onSandbox(tenantId: string, sandboxId: string, state: string): SessionRow[] {
    return (
      statement(this.db, "SELECT * FROM sessions WHERE tenant_id = ? AND target_sandbox_id = ? AND lifecycle_state = ?").all(
        tenantId,
        sandboxId,
        state,
      ) as RawRow[]
    ).map(fromRaw);
  }

  /** Sessions in `state` whose target is the named service. */
  onService(tenantId: string, serviceName: string, state: string): SessionRow[] {
    return (
      statement(this.db, "SELECT * FROM sessions WHERE tenant_id = ? AND service_name = ? AND lifecycle_state = ?").all(
        tenantId,
        serviceName,
        state,
      ) as RawRow[]
    ).map(fromRaw);
  }

  inStateOfTenant(tenantId: string, state: string): SessionRow[] {
    return (statement(this.db, "SELECT * FROM sessions WHERE tenant_id = ? AND lifecycle_state = ?").all(tenantId, state) as RawRow[]).map(fromRaw);
  }

  countInState(tenantId: string, state: string): number {
    return (statement(this.db, "SELECT COUNT(*) AS n FROM sessions WHERE tenant_id = ? AND lifecycle_state = ?").get(tenantId, state) as { n: number }).n;
  }

  /** Every open lease of every tenant: the boot sweep's view. */
  allOpen(): SessionRow[] {
    return (statement(this.db, "SELECT * FROM sessions WHERE lifecycle_state = 'open'").all() as RawRow[]).map(fromRaw);
  }

  /** The earliest deadline among open leases, if any. */
  earliestOpenDeadline(): string | undefined {
    const r = statement(this.db, "SELECT MIN(expires_at) AS at FROM sessions WHERE lifecycle_state = 'open'").get() as { at: string | null };
    return r.at ?? undefined;
  }

  /** Open leases whose deadline is at or before `at`, oldest deadline first. */
  openDueBy(at: string): SessionRow[] {
    return (statement(this.db, "SELECT * FROM sessions WHERE lifecycle_state = 'open' AND expires_at <= ? ORDER BY expires_at").all(at) as RawRow[]).map(
      fromRaw,
    );
  }

  idsOfTenant(tenantId: string): string[] {
    return (statement(this.db, "SELECT session_id AS id FROM sessions WHERE tenant_id = ? ORDER BY session_id").all(tenantId) as Array<{ id: string }>).map(
      (r) => r.id,
    );
  }

  delete(tenantId: string, id: string): boolean {
    return deleteByKey(this.db, TABLE, tenantId, id);
  }
}
