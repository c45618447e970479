/**
 * Per-tenant image references (issue 15, finding 18). The image store keeps
 * content once, by digest; a tenant sees and uses only the references its own
 * pulls made (each one checked against the registry with the tenant's own
 * credentials, or anonymously) and the images the operator marked public.
 * Naming another tenant's reference or digest gets 404 (`op.not_found`) as if
 * it did not exist; pulling it asks the registry, with this tenant's
 * credentials, which refuses a tenant without access (403 `auth.forbidden`).
 */
import { isDigest, normaliseReference, parseReference, type ImageRecord, type ImageStore, type PullOptions } from "../images/index.js";
import type { ImageRefStore } from "../store/image-ref-store.js";
import type { RegistryCredentials } from "./registry-credentials.js";
import { notFound } from "./errors.js";

/** An image as a tenant sees it: the record, and whether it is there by the operator's public mark. */
export interface TenantImage {
  record: ImageRecord;
  public: boolean;
}

type Store = Pick<ImageStore, "pull" | "resolveLocal" | "hasContent" | "list">;

/** Whether `query` (a reference in any spelling, `sha256:…`, or `name@sha256:…`) names `image`. */
function names(query: string, image: { reference: string; digest: string }): boolean {
  if (isDigest(query)) return image.digest === query;
  let q: ReturnType<typeof parseReference>;
  try {
    q = parseReference(query);
  } catch {
    return false;
  }
  const canonical = normaliseReference(query);
  if (canonical === image.reference) return true;
  if (q.digest === undefined || q.digest !== image.digest) return false;
  const r = parseReference(image.reference);
  return r.registry === q.registry && r.repository === q.repository;
}

export class TenantImages {
  constructor(private readonly deps: { images: Store; refs: ImageRefStore; credentials: RegistryCredentials }) {}

  /** The stored record of `reference` at `digest`, whichever reference the store keeps it under. */
  private recordFor(reference: string, digest: string): ImageRecord | undefined {
    const byRef = this.deps.images.resolveLocal(reference);
    const record = byRef?.digest === digest ? byRef : this.deps.images.resolveLocal(digest);
    if (!record || !this.deps.images.hasContent(record)) return undefined;
    return record.reference === reference ? record : { ...record, reference };
  }

  /** Everything the tenant may use: its references, then public images it does not hold itself. */
  list(tenantId: string): TenantImage[] {
    const out = new Map<string, TenantImage>();
    for (const row of this.deps.refs.publicImages()) {
      const record = this.recordFor(row.reference, row.digest);
      if (record) out.set(row.reference, { record, public: true });
    }
    for (const row of this.deps.refs.list(tenantId)) {
      const record = this.recordFor(row.reference, row.digest);
      if (record && !out.has(row.reference)) out.set(row.reference, { record, public: false });
    }
    return [...out.values()].sort((a, b) => (a.record.reference < b.record.reference ? -1 : a.record.reference > b.record.reference ? 1 : 0));
  }

  /** The tenant's image `refOrDigest` names; 404 when it has none (whatever other tenants hold). */
  get(tenantId: string, refOrDigest: string): TenantImage {
    const found = this.list(tenantId).find((i) => names(refOrDigest, i.record));
    if (!found) throw notFound("image", refOrDigest, tenantId);
    return found;
  }

  /** The image a sandbox of this tenant may use without a pull, if there is one. */
  present(tenantId: string, ref: string): ImageRecord | undefined {
    let reference: string;
    try {
      reference = normaliseReference(ref);
    } catch {
      return undefined;
    }
    // On the create path: only the rows this reference names are looked up in the store.
    const rows = [...this.deps.refs.publicImages(), ...this.deps.refs.list(tenantId)].filter((r) => names(reference, r));
    for (const row of rows) {
      const record = this.recordFor(row.reference, row.digest);
      if (record) return record;
    }
    return undefined;
  }

  /**
   * Pulls for the tenant: the registry checks the tenant's own credentials
   * (or none) even when the content is already here, and only then does the
   * tenant get a reference to it. Layers already stored are not downloaded again.
   */
  async pull(tenantId: string, ref: string, opts: PullOptions = {}): Promise<ImageRecord> {
    if ((opts.policy ?? "if_missing") === "if_missing") {
      const local = this.present(tenantId, ref);
      if (local) {
        opts.onProgress?.({ kind: "done", image: local });
        return local;
      }
    }
    const record = await this.deps.images.pull(ref, { ...opts, policy: "always", auth: this.deps.credentials.authFor(tenantId) });
    this.deps.refs.put({ tenantId, reference: record.reference, digest: record.digest, pulledAt: record.pulledAt });
    return record;
  }

  /** Drops the tenant's references `refOrDigest` names; the content stays for others (and until prune). */
  remove(tenantId: string, refOrDigest: string): void {
    const rows = this.deps.refs.list(tenantId).filter((r) => names(refOrDigest, r));
    if (rows.length === 0) throw notFound("image", refOrDigest, tenantId);
    for (const r of rows) this.deps.refs.delete(tenantId, r.reference);
  }

  /** Marks the stored image `refOrDigest` names public (operator only): every tenant may use it. */
  markPublic(refOrDigest: string): ImageRecord {
    const record = this.deps.images.resolveLocal(refOrDigest);
    if (!record) throw notFound("image", refOrDigest);
    this.deps.refs.markPublic({ reference: record.reference, digest: record.digest, markedAt: new Date().toISOString() });
    return record;
  }

  unmarkPublic(refOrDigest: string): void {
    const marked = this.deps.refs.publicImages().filter((r) => names(refOrDigest, r));
    if (marked.length === 0) throw notFound("public image", refOrDigest);
    for (const r of marked) this.deps.refs.unmarkPublic(r.reference);
  }

  isPublic(record: ImageRecord): boolean {
    return this.deps.refs.publicImage(record.reference)?.digest === record.digest;
  }

  /** Digests a tenant reference or a public mark holds: prune keeps them. */
  digestsInUse(): Set<string> {
    return this.deps.refs.digestsInUse();
  }
}
