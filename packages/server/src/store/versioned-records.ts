/**
 * The stores of versioned resources (sandboxes, sessions, services): records
 * created and changed only with a fresh resourceVersion (versioned-insert.ts,
 * versioned-update.ts), read and deleted by key.
 */
import { currentResourceVersion } from "./db.js";
import type { VersionedRecord } from "./record-fields.js";
import { KeyedRecords } from "./tenant-keyed.js";
import { versionedInsert } from "./versioned-insert.js";
import { versionedUpdate } from "./versioned-update.js";

export class VersionedRecords<Row extends VersionedRecord> extends KeyedRecords<Row> {
  /** The resourceVersion the last change got (what a list's watch resumes from). */
  resourceVersion(): string {
    return currentResourceVersion(this.db);
  }

  /**
   * Inserts the record at a fresh resourceVersion; call it inside the caller's
   * transaction. Undefined when `conflict` (e.g. `ON CONFLICT … DO NOTHING`) skipped it.
   */
  protected insertVersioned(row: Omit<Row, "resourceVersion">, conflict = ""): Row | undefined {
    const { resourceVersion, inserted } = versionedInsert(this.db, this.t.table, this.codec.columns(row as Partial<Row>), conflict);
    return inserted ? ({ ...row, resourceVersion } as Row) : undefined;
  }

  /** Applies `patch` where `where` holds, bumping resourceVersion/updatedAt; the new record, or undefined when nothing matched. */
  protected updateWhere(patch: Partial<Row>, where: string, whereArgs: unknown[]): Row | undefined {
    const r = versionedUpdate(this.db, this.t.table, this.codec.columns(patch), where, whereArgs);
    return r && this.codec.fromRaw(r);
  }
}
