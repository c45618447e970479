/** Process records (migration 0014): one row per process started on demand, until the domain prunes it. */
import type { Db } from "./db.js";
import { statement } from "./db.js";
import { rowCodec } from "./row-codec.js";
import { insertColumns } from "./versioned-insert.js";

export type ProcessRowState = "running" | "exited";

export interface ProcessRow {
  tenantId: string;
  sandboxId: string;
  id: string;
  /** What was asked (argv, cwd, env, user, stdin, tty), as the domain checked it. */
  spec: { argv: string[]; cwd: string; env: string[]; user: string; stdin: boolean; tty?: { cols: number; rows: number } };
  detach: boolean;
  timeoutMs: number | null;
  state: ProcessRowState;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Why it ended when not by itself: "timeout", "killed", "lost". */
  reason: string | null;
  createdAt: string;
  endedAt: string | null;
}

/** Where each field is stored: the spec as JSON text, `detach` as 0/1. */
const CODEC = rowCodec<ProcessRow>({ rename: { id: "process_id" }, json: ["spec"], flag: ["detach"] });

export class ProcessStore {
  constructor(private readonly db: Db) {}

  insert(row: ProcessRow): void {
    insertColumns(this.db, "processes", CODEC.columns(row));
  }

  get(tenantId: string, sandboxId: string, id: string): ProcessRow | undefined {
    const r = statement(this.db, "SELECT * FROM processes WHERE tenant_id = ? AND sandbox_id = ? AND process_id = ?").get(tenantId, sandboxId, id);
    return r === undefined ? undefined : CODEC.fromRaw(r);
  }

  /** In creation order; rowid breaks ties between processes started in the same millisecond (ids are random). */
  list(tenantId: string, sandboxId: string): ProcessRow[] {
    return CODEC.fromRows(
      statement(this.db, "SELECT * FROM processes WHERE tenant_id = ? AND sandbox_id = ? ORDER BY created_at, rowid").all(tenantId, sandboxId),
    );
  }

  running(): ProcessRow[] {
    return CODEC.fromRows(statement(this.db, "SELECT * FROM processes WHERE state = 'running'").all());
  }

  setPid(tenantId: string, sandboxId: string, id: string, pid: number): void {
    statement(this.db, "UPDATE processes SET pid = ? WHERE tenant_id = ? AND sandbox_id = ? AND process_id = ?").run(pid, tenantId, sandboxId, id);
  }

  /** Records the end once; a later call (a second watcher) changes nothing. */
  ended(tenantId: string, sandboxId: string, id: string, end: { exitCode: number; signal?: string; reason?: string; endedAt: string }): void {
    statement(
      this.db,
      "UPDATE processes SET state = 'exited', exit_code = ?, signal = ?, reason = COALESCE(reason, ?), ended_at = ? WHERE tenant_id = ? AND sandbox_id = ? AND process_id = ? AND state = 'running'",
    ).run(end.exitCode, end.signal ?? null, end.reason ?? null, end.endedAt, tenantId, sandboxId, id);
  }

  /** Notes why it is being ended (kept when the exit is recorded). */
  setReason(tenantId: string, sandboxId: string, id: string, reason: string): void {
    statement(this.db, "UPDATE processes SET reason = COALESCE(reason, ?) WHERE tenant_id = ? AND sandbox_id = ? AND process_id = ?").run(
      reason,
      tenantId,
      sandboxId,
      id,
    );
  }

  remove(tenantId: string, sandboxId: string, id: string): void {
    statement(this.db, "DELETE FROM processes WHERE tenant_id = ? AND sandbox_id = ? AND process_id = ?").run(tenantId, sandboxId, id);
  }

  /** Ended rows older than `before` (RFC 3339), and every ended row of a sandbox past the newest `keep`. */
  prunable(before: string, keep: number): ProcessRow[] {
    const rows = statement(
      this.db,
      // The rank stays inside the subquery: a record holds only the table's columns (see row-codec.ts).
      `SELECT * FROM processes WHERE rowid IN (
         SELECT rowid FROM (
           SELECT rowid, ended_at, ROW_NUMBER() OVER (PARTITION BY tenant_id, sandbox_id ORDER BY ended_at DESC) AS n FROM processes WHERE state = 'exited'
         ) WHERE ended_at < ? OR n > ?
       )`,
    ).all(before, keep);
    return CODEC.fromRows(rows);
  }

  /** Rows of sandboxes that are no longer there. */
  ofSandbox(tenantId: string, sandboxId: string): ProcessRow[] {
    return this.list(tenantId, sandboxId);
  }
}
