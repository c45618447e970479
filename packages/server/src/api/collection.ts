/**
 * The contract's collection envelope and paging rules: sorted by id,
 * `limit` clamped to 1..100 (default 100), `pageToken` = last id of the
 * previous page.
 */
export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  return Math.min(100, Math.max(1, Math.trunc(limit)));
}

export function collection<T>(tenantId: string, resourceVersion: string, limit: number, items: T[], lastId: string | undefined, remaining: number) {
  return {
    metadata: { tenantId, resourceVersion, limit, ...(remaining > 0 && lastId !== undefined ? { nextPageToken: lastId } : {}), remainingCount: remaining },
    items,
  };
}
