/**
 * The egress decision log's rows (migration 0009). Appends come in batches
 * from the domain's buffer, in one transaction without an fsync of their own
 * (an observation, not a request: a power loss may drop the last batch).
 * Pages are by `seq`, newest last, filtered by decision, host and time.
 */
import type { EgressLogEntry } from "@nimbus/nimbus";
import type { Db } from "./db.js";
import { statement, withoutFsync } from "./db.js";

/** A stored row: the SDK's wire entry, plus whose it is. */
export interface EgressLogRow extends EgressLogEntry {
  tenantId: string;
  sandboxId: string;
}

export type NewEgressLogRow = Omit<EgressLogRow, "seq">;

export interface EgressLogQuery {
  decision?: "allowed" | "denied";
  /** Rows whose name or address is exactly this. */
  host?: string;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
  /** Rows after this seq (the previous page's last). */
  after?: number;
  limit: number;
}

const COLUMNS = `seq, tenant_id AS tenantId, sandbox_id AS sandboxId, at, kind, name, address, port, protocol, decision, rule, reason,
  bytes_up AS bytesUp, bytes_down AS bytesDown, duration_ms AS durationMs`;

export class EgressLogStore {
  constructor(private readonly db: Db) {}

  append(rows: NewEgressLogRow[]): void {
    if (rows.length === 0) return;
    const insert = statement(
      this.db,
      `INSERT INTO egress_log (tenant_id, sandbox_id, at, kind, name, address, port, protocol, decision, rule, reason, bytes_up, bytes_down, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    withoutFsync(this.db, () =>
      this.db.transaction(() => {
        for (const r of rows) {
          insert.run(
            r.tenantId,
            r.sandboxId,
            r.at,
            r.kind,
            r.name,
            r.address,
            r.port,
            r.protocol,
            r.decision,
            r.rule,
            r.reason,
            r.bytesUp,
            r.bytesDown,
            r.durationMs,
          );
        }
      })(),
    );
  }

  /** Keeps only the newest `keep` rows of one sandbox. */
  trimSandbox(tenantId: string, sandboxId: string, keep: number): void {
    statement(
      this.db,
      `DELETE FROM egress_log WHERE tenant_id = ? AND sandbox_id = ? AND seq <= (
         SELECT seq FROM egress_log WHERE tenant_id = ? AND sandbox_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    ).run(tenantId, sandboxId, tenantId, sandboxId, keep);
  }

  /** Drops every row older than `before` (ISO time), across tenants. */
  trimOlderThan(before: string): number {
    return statement(this.db, "DELETE FROM egress_log WHERE at < ?").run(before).changes;
  }

  deleteSandbox(tenantId: string, sandboxId: string): void {
    statement(this.db, "DELETE FROM egress_log WHERE tenant_id = ? AND sandbox_id = ?").run(tenantId, sandboxId);
  }

  page(tenantId: string, sandboxId: string, q: EgressLogQuery): EgressLogRow[] {
    const { where, args } = filter(tenantId, sandboxId, q);
    return statement(this.db, `SELECT ${COLUMNS} FROM egress_log WHERE ${where} ORDER BY seq LIMIT ?`).all(...args, q.limit) as EgressLogRow[];
  }

  /** How many rows match (after `q.after`), for a page's remaining count. */
  count(tenantId: string, sandboxId: string, q: Omit<EgressLogQuery, "limit">): number {
    const { where, args } = filter(tenantId, sandboxId, q);
    return (statement(this.db, `SELECT COUNT(*) AS n FROM egress_log WHERE ${where}`).get(...args) as { n: number }).n;
  }
}

function filter(tenantId: string, sandboxId: string, q: Omit<EgressLogQuery, "limit">): { where: string; args: unknown[] } {
  const where = ["tenant_id = ?", "sandbox_id = ?"];
  const args: unknown[] = [tenantId, sandboxId];
  if (q.decision) (where.push("decision = ?"), args.push(q.decision));
  if (q.host) (where.push("(name = ? OR address = ?)"), args.push(q.host, q.host));
  if (q.since) (where.push("at >= ?"), args.push(q.since));
  if (q.until) (where.push("at <= ?"), args.push(q.until));
  if (q.after !== undefined) (where.push("seq > ?"), args.push(q.after));
  return { where: where.join(" AND "), args };
}
