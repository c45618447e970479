/**
 * Wire types shared by every resource: timestamps, labels, collections,
 * conditions, endpoints and the error envelope (contract §1).
 */
/** Generated from the server's schemas: see ../wire.ts. */
import type { Timestamp, Labels, ResourceMetadata, CollectionMetadata, Condition, Endpoint, Redacted, ErrorEnvelope, WireError } from "../wire.js";
export type { Timestamp, Labels, ResourceMetadata, CollectionMetadata, Condition, Endpoint, Redacted, ErrorEnvelope, WireError };

/**
 * A page of resources, sorted by id (services by name).
 *
 * @example
 * const page: Collection<Sandbox> = await nimbus.sandboxes.list();
 * for (const s of page.items) console.log(s.metadata.id);
 */
export interface Collection<T> {
  metadata: CollectionMetadata;
  items: T[];
}

/**
 * Paging options accepted by every `list` call.
 *
 * @example
 * await nimbus.sandboxes.list({ limit: 10, pageToken: "sandbox-01h..." });
 */
export interface PageOptions {
  /** Page size, clamped by the server to 1..100. @default 100 */
  limit?: number;
  /** The last id of the previous page (its `metadata.nextPageToken`). */
  pageToken?: string;
}
