/**
 * Tenants' image references and the operator's public marks (migration
 * 0012). Only references and digests: the image content lives in the image
 * store, shared by digest.
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";
import { rowCodec } from "./row-codec.js";
import { TenantKeyedRecords, type TenantKeyedTable } from "./tenant-keyed.js";

export interface TenantImageRow {
  tenantId: string;
  reference: string;
  digest: string;
  pulledAt: string;
}

export interface PublicImageRow {
  reference: string;
  digest: string;
  markedAt: string;
}

/** A tenant's references are keyed (tenant_id, reference). */
const TENANT_TABLE: TenantKeyedTable = { table: "tenant_images", keyColumn: "reference" };
const TENANT_CODEC = rowCodec<TenantImageRow>({});
const PUBLIC_COLUMNS = "reference, digest, marked_at AS markedAt";

export class ImageRefStore {
  private readonly tenantRefs: TenantKeyedRecords<TenantImageRow>;

  constructor(private readonly db: Db) {
    this.tenantRefs = new TenantKeyedRecords(db, TENANT_TABLE, TENANT_CODEC, (row) => row.reference);
  }

  put(row: TenantImageRow): void {
    this.tenantRefs.upsert(row);
  }

  get(tenantId: string, reference: string): TenantImageRow | undefined {
    return this.tenantRefs.get(tenantId, reference);
  }

  list(tenantId: string): TenantImageRow[] {
    return this.tenantRefs.list(tenantId);
  }

  delete(tenantId: string, reference: string): boolean {
    return this.tenantRefs.delete(tenantId, reference);
  }

  /** Whether any tenant still holds `reference`. */
  referenced(reference: string): boolean {
    return statement(this.db, "SELECT 1 FROM tenant_images WHERE reference = ? LIMIT 1").get(reference) !== undefined;
  }

  /** Every digest a tenant reference or a public mark names (kept by prune). */
  digestsInUse(): Set<string> {
    const rows = statement(this.db, "SELECT digest FROM tenant_images UNION SELECT digest FROM public_images").all() as Array<{ digest: string }>;
    return new Set(rows.map((r) => r.digest));
  }

  markPublic(row: PublicImageRow): void {
    statement(
      this.db,
      `INSERT INTO public_images (reference, digest, marked_at) VALUES (?, ?, ?)
       ON CONFLICT (reference) DO UPDATE SET digest = excluded.digest, marked_at = excluded.marked_at`,
    ).run(row.reference, row.digest, row.markedAt);
  }

  unmarkPublic(reference: string): boolean {
    return statement(this.db, "DELETE FROM public_images WHERE reference = ?").run(reference).changes === 1;
  }

  publicImage(reference: string): PublicImageRow | undefined {
    return statement(this.db, `SELECT ${PUBLIC_COLUMNS} FROM public_images WHERE reference = ?`).get(reference) as PublicImageRow | undefined;
  }

  publicImages(): PublicImageRow[] {
    return statement(this.db, `SELECT ${PUBLIC_COLUMNS} FROM public_images ORDER BY reference`).all() as PublicImageRow[];
  }
}
