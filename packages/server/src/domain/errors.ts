/**
 * The one error catalogue. Every failure a caller can see has a fixed string
 * code with exactly one HTTP status; `api/errors.ts` is the only place that
 * turns these into responses. Low-level modules (store, images, runtime)
 * throw their own errors and the domain translates them into AppErrors.
 */

export const ERROR_CATALOGUE = {
  "auth.unauthorized": { status: 401, retryable: false, summary: "No valid credential was presented." },
  "auth.forbidden": { status: 403, retryable: false, summary: "The credential is valid but may not use this route." },
  "op.invalid_input": { status: 400, retryable: false, summary: "The request is malformed or fails validation." },
  "op.not_found": { status: 404, retryable: false, summary: "The resource (or route) does not exist for this tenant." },
  "op.method_not_allowed": { status: 405, retryable: false, summary: "(ext) The route exists but not with this method." },
  "op.already_exists": { status: 409, retryable: false, summary: "A resource with this id or name already exists." },
  "op.conflict": { status: 409, retryable: false, summary: "The resource is in a state that does not allow this operation." },
  "op.precondition_failed": { status: 412, retryable: false, summary: "A generation precondition did not match." },
  "op.payload_too_large": { status: 413, retryable: false, summary: "(ext) The request body is over the size limit." },
  "op.too_large": { status: 413, retryable: false, summary: "(ext) Over a size or count limit once expanded or measured (archives, sparse files, transfers)." },
  "op.not_a_regular_file": { status: 400, retryable: false, summary: "(ext) The path is a FIFO, socket, device or directory where a regular file is needed." },
  "rate.resource_exhausted": { status: 429, retryable: true, summary: "A quota is exhausted." },
  "service.internal": { status: 500, retryable: true, summary: "An unexpected server fault; the cause is in the server log." },
  "service.unavailable": { status: 503, retryable: true, summary: "A dependency is not available right now." },
  "service.registry_unreachable": {
    status: 502,
    retryable: true,
    summary: "(ext) The registry was unreachable or refused the destination; see the server log.",
  },
  "service.insufficient_storage": {
    status: 507,
    retryable: true,
    summary: "(ext) The host's disk is nearly full; creates and pulls are refused till space is freed.",
  },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  detail?: Record<string, unknown> | null;
  cause?: unknown;
  /** Extra response headers, e.g. `Allow` for 405. */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown> | null;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.detail = options.detail ?? null;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

/** Shorthand for the common "x was not found for tenant t" message. */
export function notFound(kind: string, id: string, tenantId?: string): AppError {
  const where = tenantId === undefined ? "" : ` for tenant \`${tenantId}\``;
  return new AppError("op.not_found", `${kind} \`${id}\` was not found${where}`, { detail: { kind, id } });
}

/** The record, or the not-found error for it: what every domain `get` by key answers. */
export function found<Row>(row: Row | undefined, kind: string, id: string, tenantId: string): Row {
  if (row === undefined) throw notFound(kind, id, tenantId);
  return row;
}

export function invalidInput(message: string, detail?: Record<string, unknown>): AppError {
  return new AppError("op.invalid_input", message, { detail: detail ?? null });
}
