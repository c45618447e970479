/**
 * Wire types shared by every resource: timestamps, labels, collections,
 * conditions, endpoints and the error envelope (contract §1).
 */

/**
 * An RFC 3339 UTC timestamp string, e.g. `"2026-11-28T10:00:00.000Z"`.
 *
 * @example
 * const when: Timestamp = "2026-11-28T10:00:00.000Z";
 */
export type Timestamp = string;

/**
 * String key/value labels attached to a resource.
 *
 * @example
 * const labels: Labels = { purpose: "quickstart" };
 */
export type Labels = Record<string, string>;

/**
 * Metadata every sandbox and session resource carries.
 *
 * @example
 * console.log(resource.metadata.id, resource.metadata.generation);
 */
export interface ResourceMetadata {
  tenantId: string;
  id: string;
  generation: number;
  resourceVersion: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/**
 * Metadata of a paged collection. `pageToken` for the next page is
 * `nextPageToken`; it is absent on the last page.
 *
 * @example
 * if (page.metadata.nextPageToken) next = page.metadata.nextPageToken;
 */
export interface CollectionMetadata {
  tenantId: string;
  resourceVersion: string;
  /** Page size the server used (clamped to 1..100). @default 100 */
  limit: number;
  nextPageToken?: string;
  remainingCount: number;
}

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

/**
 * A Kubernetes-style status condition.
 *
 * @example
 * const ready = sandbox.status.conditions.find((c) => c.type === "Ready");
 */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: Timestamp;
}

/**
 * A declared port of a running sandbox or service (ext). With `publish:
 * "proxy"` (the default) it is reachable only through the authenticated
 * service proxy and has no host address; with `publish: "host"` it also
 * listens on `host:port` of the server's loopback, without authentication.
 *
 * @example
 * if (ep.publish === "host") console.log(`http://${ep.host}:${ep.port}`);
 */
export interface Endpoint {
  name: string;
  protocol: string;
  /** The port inside the sandbox. */
  targetPort: number;
  publish: "proxy" | "host";
  /** Only with `publish: "host"`: the host address of the unauthenticated listener. */
  host?: string;
  /** Only with `publish: "host"`: the host port of the unauthenticated listener. */
  port?: number;
}

/**
 * A launch input that the server never echoes back: only its value count.
 *
 * @example
 * const n = sandbox.spec.sandbox.process.argv.valueCount;
 */
export interface Redacted {
  redacted: true;
  valueCount: number;
}

/**
 * The body of every non-2xx response: `{"error": {...}}`.
 *
 * @example
 * const env: ErrorEnvelope = { error: { code: "op.not_found", message: "...",
 *   requestId: "req_1", retryable: false, detail: null } };
 */
export interface ErrorEnvelope {
  error: WireError;
}

/**
 * The inner object of {@link ErrorEnvelope}.
 *
 * @example
 * if (body.error.code === "op.conflict") retryLater();
 */
export interface WireError {
  code: string;
  message: string;
  requestId: string;
  retryable: boolean;
  detail: Record<string, unknown> | null;
}
