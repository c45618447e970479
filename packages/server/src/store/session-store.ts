/**
 * Session lease records (contract §5). The target as asked, the snapshot of
 * what it resolved to, and the sandbox id the lease rides on (for a service
 * target too) so a stopping sandbox finds its sessions in one indexed query.
 * Timestamps are RFC 3339 UTC strings, which sort like the instants they name.
 */
import type { SessionChannel, SessionState, TargetSnapshot } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { keysetPage, tenantFilter } from "./paging.js";
import { rowCodec } from "./row-codec.js";
import type { VersionedRecord } from "./record-fields.js";
import { statement } from "./db.js";
import type { TenantKeyedTable } from "./tenant-keyed.js";
import { VersionedRecords } from "./versioned-records.js";
/** Records are keyed (tenant_id, session_id). */
const TABLE: TenantKeyedTable = { table: "sessions", keyColumn: "session_id" };

export type SessionTargetRecord = { sandbox: { id: string } } | { service: { name: string } };

export type TargetSnapshotRecord = TargetSnapshot;

export interface SessionRow extends VersionedRecord {
  id: string;
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

/** Where each field is stored: the target, its snapshot and the channels as JSON text. */
const CODEC = rowCodec<SessionRow>({ rename: { id: "session_id" }, json: ["target", "targetSnapshot", "channels"] });

export type SessionPatch = Partial<Pick<SessionRow, "generation" | "lifecycleState" | "expiresAt" | "stateChangedAt" | "closedAt" | "closeReason">>;

export interface SessionListQuery {
  limit: number;
  pageToken?: string;
  status?: string;
}

export class SessionStore extends VersionedRecords<SessionRow> {
  constructor(db: Db) {
    super(db, TABLE, CODEC);
  }

  insert(row: Omit<SessionRow, "resourceVersion">): SessionRow {
    return this.db.transaction(() => {
      // No conflict clause: a taken id throws (ids are fresh ULIDs), so there is always a record.
      return this.insertVersioned(row) as SessionRow;
    })();
  }

  /**
   * Apply a patch and bump resourceVersion/updatedAt, only while the record
   * is still in `whileState` (so two writers cannot both end one lease).
   */
  update(tenantId: string, id: string, whileState: string, patch: SessionPatch): SessionRow | undefined {
    return this.updateWhere(patch, "tenant_id = ? AND session_id = ? AND lifecycle_state = ?", [tenantId, id, whileState]);
  }

  list(tenantId: string, q: SessionListQuery): { items: SessionRow[]; remaining: number } {
    const filter = tenantFilter(tenantId, { lifecycle_state: q.status });
    const page = keysetPage(this.db, "sessions", "session_id", { ...filter, limit: q.limit, pageToken: q.pageToken });
    return { items: CODEC.fromRows(page.rows), remaining: page.remaining };
  }

  /** Sessions in `state` riding on one sandbox of the tenant. */
  onSandbox(tenantId: string, sandboxId: string, state: string): SessionRow[] {
    return this.inStateWhere(tenantId, "target_sandbox_id", sandboxId, state);
  }

  /** Sessions in `state` whose target is the named service. */
  onService(tenantId: string, serviceName: string, state: string): SessionRow[] {
    return this.inStateWhere(tenantId, "service_name", serviceName, state);
  }

  /** The tenant's sessions in `state` whose `column` (a fixed name, never input) holds `value`. */
  private inStateWhere(tenantId: string, column: "target_sandbox_id" | "service_name", value: string, state: string): SessionRow[] {
    return CODEC.fromRows(
      statement(this.db, `SELECT * FROM sessions WHERE tenant_id = ? AND ${column} = ? AND lifecycle_state = ?`).all(tenantId, value, state),
    );
  }

  inStateOfTenant(tenantId: string, state: string): SessionRow[] {
    return CODEC.fromRows(statement(this.db, "SELECT * FROM sessions WHERE tenant_id = ? AND lifecycle_state = ?").all(tenantId, state));
  }

  countInState(tenantId: string, state: string): number {
    return (statement(this.db, "SELECT COUNT(*) AS n FROM sessions WHERE tenant_id = ? AND lifecycle_state = ?").get(tenantId, state) as { n: number }).n;
  }

  /** Every open lease of every tenant: the boot sweep's view. */
  allOpen(): SessionRow[] {
    return CODEC.fromRows(statement(this.db, "SELECT * FROM sessions WHERE lifecycle_state = 'open'").all());
  }

  /** The earliest deadline among open leases, if any. */
  earliestOpenDeadline(): string | undefined {
    const r = statement(this.db, "SELECT MIN(expires_at) AS at FROM sessions WHERE lifecycle_state = 'open'").get() as { at: string | null };
    return r.at ?? undefined;
  }

  /** Open leases whose deadline is at or before `at`, oldest deadline first. */
  openDueBy(at: string): SessionRow[] {
    return CODEC.fromRows(statement(this.db, "SELECT * FROM sessions WHERE lifecycle_state = 'open' AND expires_at <= ? ORDER BY expires_at").all(at));
  }

  idsOfTenant(tenantId: string): string[] {
    return (statement(this.db, "SELECT session_id AS id FROM sessions WHERE tenant_id = ? ORDER BY session_id").all(tenantId) as Array<{ id: string }>).map(
      (r) => r.id,
    );
  }
}
