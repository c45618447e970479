/**
 * Tenants' image references and the operator's public marks (migration
 * 0012). Only references and digests: the image content lives in the image
 * store, shared by digest.
 */
import type { Db } from "./db.js";
import { statement } from "./db.js";

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

const TENANT_COLUMNS = "tenant_id AS tenantId, reference, digest, pulled_at AS pulledAt";
const PUBLIC_COLUMNS = "reference, digest, marked_at AS markedAt";

export class ImageRefStore {
  constructor(private readonly db: Db) {}

  put(row: TenantImageRow): void {
    statement(
      this.db,
      `INSERT INTO tenant_images (tenant_id, reference, digest, pulled_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id, reference) DO UPDATE SET digest = excluded.digest, pulled_at = excluded.pulled_at`,
    ).run(row.tenantId, row.reference, row.digest, row.pulledAt);
  }

  get(tenantId: string, reference: string): TenantImageRow | undefined {
    return statement(this.db, `SELECT ${TENANT_COLUMNS} FROM tenant_images WHERE tenant_id = ? AND reference = ?`).get(tenantId, reference) as
      TenantImageRow | undefined;
  }

  list(tenantId: string): TenantImageRow[] {
    return statement(this.db, `SELECT ${TENANT_COLUMNS} FROM tenant_images WHERE tenant_id = ? ORDER BY reference`).all(tenantId) as TenantImageRow[];
  }

  delete(tenantId: string, reference: string): boolean {
    return statement(this.db, "DELETE FROM tenant_images WHERE tenant_id = ? AND reference = ?").run(tenantId, reference).changes === 1;
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
