/**
 * Sandbox records. The caller's spec (including launch inputs) is stored
 * whole so the server can relaunch and re-adopt; redaction happens when the
 * domain builds the wire view, never here.
 */
import type { LifecycleState, SandboxProfile, SandboxReason, SandboxSpec } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { keysetPage, tenantFilter } from "./paging.js";
import { rowCodec } from "./row-codec.js";
import type { VersionedRecord } from "./record-fields.js";
import { statement, withoutFsync } from "./db.js";
import type { WalSync } from "./wal-sync.js";
import type { TenantKeyedTable } from "./tenant-keyed.js";
import { VersionedRecords } from "./versioned-records.js";
/** Records are keyed (tenant_id, sandbox_id). */
const TABLE: TenantKeyedTable = { table: "sandboxes", keyColumn: "sandbox_id" };

export interface SandboxPhases {
  pullMs?: number;
  createMs?: number;
  startMs?: number;
}

export interface SandboxRow extends VersionedRecord {
  id: string;
  labels: Record<string, string>;
  profile: SandboxProfile;
  /** The caller's spec as created (the SDK's wire type, the one shape client and server share). */
  spec: SandboxSpec;
  serviceName: string | null;
  lifecycleState: LifecycleState;
  stateChangedAt: string;
  reason: SandboxReason | null;
  message: string | null;
  exitCode: number | null;
  phases: SandboxPhases;
  imageDigest: string | null;
  /** Host fields only for a port published with `publish: "host"` (issue 15 #19). */
  endpoints: Array<{ name: string; protocol: string; targetPort: number; publish: "proxy" | "host"; host?: string; port?: number }>;
  /** The TTL deadline (ISO 8601), if the lifetime has one; moved by extend. */
  expiresAt: string | null;
  /** The idle deadline (ISO 8601), if the lifetime has one; moved forward by activity. */
  idleExpiresAt: string | null;
}

/** Where each field is stored: labels, spec, phases and endpoints as JSON text. */
const CODEC = rowCodec<SandboxRow>({ rename: { id: "sandbox_id" }, json: ["labels", "spec", "phases", "endpoints"] });

export type SandboxPatch = Partial<
  Pick<
    SandboxRow,
    "lifecycleState" | "stateChangedAt" | "reason" | "message" | "exitCode" | "phases" | "imageDigest" | "endpoints" | "expiresAt" | "idleExpiresAt"
  >
>;

/** A new record: the lifetime deadlines may be left out (none). */
export type NewSandboxRow = Omit<SandboxRow, "resourceVersion" | "expiresAt" | "idleExpiresAt"> & Partial<Pick<SandboxRow, "expiresAt" | "idleExpiresAt">>;

export interface SandboxListQuery {
  limit: number;
  pageToken?: string;
  status?: string;
  labelKey?: string;
  labelValue?: string;
}

export class SandboxStore extends VersionedRecords<SandboxRow> {
  /** `wal`: group commit for inserts (see wal-sync.ts); without it SQLite syncs each commit itself. */
  constructor(
    db: Db,
    private readonly wal?: Pick<WalSync, "sync">,
  ) {
    super(db, TABLE, CODEC);
  }

  /**
   * Inserts in one transaction (the counter and the row commit together). The
   * row is visible at once; `durable` resolves when it is on disk, which is when
   * a create may be acknowledged.
   */
  insert(row: NewSandboxRow): { row: SandboxRow; durable: Promise<void> } {
    const commit = () => this.db.transaction(() => this.insertRow(row))();
    if (!this.wal) return { row: commit(), durable: Promise.resolve() };
    const inserted = withoutFsync(this.db, commit);
    return { row: inserted, durable: this.wal.sync() };
  }

  private insertRow(input: NewSandboxRow): SandboxRow {
    const row = { ...input, expiresAt: input.expiresAt ?? null, idleExpiresAt: input.idleExpiresAt ?? null };
    // No conflict clause: a taken id throws (ids are random), so there is always a record.
    return this.insertVersioned(row) as SandboxRow;
  }

  /** Apply a patch and bump resourceVersion/updatedAt in one statement. */
  /** `fsync: false` only for observed progress the reconciler re-derives from the host (see withoutFsync). */
  update(tenantId: string, id: string, patch: SandboxPatch, opts: { fsync?: boolean } = {}): SandboxRow | undefined {
    const write = () => this.updateWhere(patch, "tenant_id = ? AND sandbox_id = ?", [tenantId, id]);
    return opts.fsync === false ? withoutFsync(this.db, write) : write();
  }

  /**
   * Replaces the spec at a new generation, only while the row is still at
   * `ifResourceVersion`; undefined when it moved on (or is gone).
   */
  replaceSpec(tenantId: string, id: string, spec: SandboxSpec, generation: number, ifResourceVersion: string): SandboxRow | undefined {
    return this.updateWhere({ spec, generation }, "tenant_id = ? AND sandbox_id = ? AND resource_version = ?", [tenantId, id, ifResourceVersion]);
  }

  list(tenantId: string, q: SandboxListQuery): { items: SandboxRow[]; remaining: number } {
    const { where, args } = tenantFilter(tenantId, { lifecycle_state: q.status });
    if (q.labelKey !== undefined) {
      where.push(q.labelValue === undefined ? "json_extract(labels, ?) IS NOT NULL" : "json_extract(labels, ?) = ?");
      args.push(`$."${q.labelKey}"`);
      if (q.labelValue !== undefined) args.push(q.labelValue);
    }
    const page = keysetPage(this.db, "sandboxes", "sandbox_id", { where, args, limit: q.limit, pageToken: q.pageToken });
    return { items: CODEC.fromRows(page.rows), remaining: page.remaining };
  }

  countInStates(tenantId: string, states: readonly string[]): number {
    const marks = states.map(() => "?").join(", ");
    return (
      statement(this.db, `SELECT COUNT(*) AS n FROM sandboxes WHERE tenant_id = ? AND lifecycle_state IN (${marks})`).get(tenantId, ...states) as { n: number }
    ).n;
  }

  /** The image references the tenant's `pending` sandboxes are pulling (one pull per reference). */
  pullingReferences(tenantId: string): string[] {
    const rows = statement(
      this.db,
      "SELECT DISTINCT json_extract(spec, '$.root.source.reference') AS ref FROM sandboxes WHERE tenant_id = ? AND lifecycle_state = 'pending'",
    ).all(tenantId) as Array<{ ref: string | null }>;
    return rows.map((r) => r.ref).filter((r): r is string => r !== null);
  }

  /** Every sandbox of every tenant in one of the states: the boot reconciler's view. */
  allInStates(states: readonly string[]): SandboxRow[] {
    const marks = states.map(() => "?").join(", ");
    return CODEC.fromRows(statement(this.db, `SELECT * FROM sandboxes WHERE lifecycle_state IN (${marks})`).all(...states));
  }

  idsOfTenant(tenantId: string): string[] {
    return (statement(this.db, "SELECT sandbox_id AS id FROM sandboxes WHERE tenant_id = ?").all(tenantId) as Array<{ id: string }>).map((r) => r.id);
  }

  /**
   * Activity moved the idle deadline: observed state, so no new resourceVersion
   * (a PATCH in flight is not refused for it) and no fsync (after a power loss
   * the older deadline is the conservative one).
   */
  setIdleDeadline(tenantId: string, id: string, idleExpiresAt: string): void {
    withoutFsync(this.db, () =>
      statement(this.db, "UPDATE sandboxes SET idle_expires_at = ? WHERE tenant_id = ? AND sandbox_id = ?").run(idleExpiresAt, tenantId, id),
    );
  }

  /** Every not-yet-stopping sandbox with a lifetime deadline: what the lifetime timer watches. */
  withDeadlines(): Array<Pick<SandboxRow, "tenantId" | "id" | "expiresAt" | "idleExpiresAt">> {
    return statement(
      this.db,
      `SELECT tenant_id AS tenantId, sandbox_id AS id, expires_at AS expiresAt, idle_expires_at AS idleExpiresAt FROM sandboxes
       WHERE lifecycle_state IN ('pending', 'starting', 'ready') AND (expires_at IS NOT NULL OR idle_expires_at IS NOT NULL)`,
    ).all() as Array<Pick<SandboxRow, "tenantId" | "id" | "expiresAt" | "idleExpiresAt">>;
  }

  /** (tenant, id) of every record, for telling owned containers from orphans. */
  allKeys(): Array<{ tenantId: string; id: string }> {
    return statement(this.db, "SELECT tenant_id AS tenantId, sandbox_id AS id FROM sandboxes").all() as Array<{ tenantId: string; id: string }>;
  }

  /** Image digests of sandboxes that still hold their image (for image prune). */
  imageDigestsInUse(): Set<string> {
    const rows = statement(this.db, "SELECT DISTINCT image_digest AS d FROM sandboxes WHERE image_digest IS NOT NULL").all() as Array<{ d: string }>;
    return new Set(rows.map((r) => r.d));
  }
}
