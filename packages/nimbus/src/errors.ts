/**
 * Typed errors. The server answers every failure with one envelope
 * (`{"error":{code,message,requestId,retryable,detail}}`); {@link fromWire}
 * rebuilds the matching subclass so callers branch on classes or codes.
 * Client-side failures use `client.*` codes with status 0.
 */
import type { WireError } from "./types/common.js";

/**
 * Error codes of the contract, plus the SDK's own `client.*` codes.
 *
 * @example
 * if (err.code === "op.not_found") return undefined;
 */
export type NimbusErrorCode =
  | "auth.unauthorized"
  | "auth.forbidden"
  | "op.invalid_input"
  | "op.not_found"
  | "op.already_exists"
  | "op.conflict"
  | "op.precondition_failed"
  | "op.payload_too_large"
  | "op.too_large"
  | "op.not_a_regular_file"
  | "rate.resource_exhausted"
  | "service.internal"
  | "service.unavailable"
  | "service.registry_unreachable"
  | "service.insufficient_storage"
  | "client.config"
  | "client.network"
  | "client.timeout"
  | "client.protocol"
  | (string & {});

/**
 * Fields of a {@link NimbusError}.
 *
 * @example
 * new NimbusError({ code: "op.conflict", message: "busy", status: 409 });
 */
export interface NimbusErrorInit {
  code: NimbusErrorCode;
  message: string;
  /** HTTP status; 0 for client-side errors. @default 0 */
  status?: number;
  requestId?: string;
  detail?: Record<string, unknown> | null;
  /** @default false */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * Every error the SDK throws (except a caller's own abort).
 *
 * @example
 * try { await nimbus.sandboxes.get({ id }); }
 * catch (e) { if (e instanceof NimbusError) console.log(e.code, e.requestId); }
 */
export class NimbusError extends Error {
  /** Stable machine code, e.g. `op.not_found`. */
  readonly code: NimbusErrorCode;
  /** HTTP status, or 0 when the request never got an answer. */
  readonly status: number;
  /** The server's request id (`req_...`), when there was a response. */
  readonly requestId: string | undefined;
  /** Structured detail from the server, or null. */
  readonly detail: Record<string, unknown> | null;
  /** Whether the same request may succeed if retried. */
  readonly retryable: boolean;

  constructor(init: NimbusErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status ?? 0;
    this.requestId = init.requestId;
    this.detail = init.detail ?? null;
    this.retryable = init.retryable ?? false;
  }
}

/** A resource does not exist or is not visible to this credential (`op.not_found`). @example if (e instanceof NimbusNotFoundError) return null; */
export class NimbusNotFoundError extends NimbusError {}
/** A state conflict (`op.conflict`, `op.already_exists`). @example if (e instanceof NimbusConflictError) await retry(); */
export class NimbusConflictError extends NimbusError {}
/** A stale generation (`op.precondition_failed`). @example if (e instanceof NimbusPreconditionError) reload(); */
export class NimbusPreconditionError extends NimbusError {}
/** Missing, wrong or insufficient credential (`auth.unauthorized`, `auth.forbidden`). @example if (e instanceof NimbusAuthError) login(); */
export class NimbusAuthError extends NimbusError {}
/** A quota was reached (`rate.resource_exhausted`). @example if (e instanceof NimbusRateLimitError) await backoff(); */
export class NimbusRateLimitError extends NimbusError {}
/** The request was rejected as invalid (`op.invalid_input`, `op.not_a_regular_file`). @example if (e instanceof NimbusInvalidInputError) console.log(e.detail); */
export class NimbusInvalidInputError extends NimbusError {}
/** The server cannot serve now (`service.unavailable`, `service.registry_unreachable`, `service.insufficient_storage`). @example if (e instanceof NimbusUnavailableError) await backoff(); */
export class NimbusUnavailableError extends NimbusError {}
/** The client is not configured (`client.config`); thrown at the first request. @example if (e instanceof NimbusConfigError) console.error(e.message); */
export class NimbusConfigError extends NimbusError {
  constructor(message: string) {
    super({ code: "client.config", message });
  }
}

type ErrorClass = new (init: NimbusErrorInit) => NimbusError;

const CLASS_BY_CODE: Record<string, ErrorClass> = {
  "op.not_found": NimbusNotFoundError,
  "op.conflict": NimbusConflictError,
  "op.already_exists": NimbusConflictError,
  "op.precondition_failed": NimbusPreconditionError,
  "auth.unauthorized": NimbusAuthError,
  "auth.forbidden": NimbusAuthError,
  "rate.resource_exhausted": NimbusRateLimitError,
  "op.invalid_input": NimbusInvalidInputError,
  "op.not_a_regular_file": NimbusInvalidInputError,
  "service.unavailable": NimbusUnavailableError,
  "service.registry_unreachable": NimbusUnavailableError,
  "service.insufficient_storage": NimbusUnavailableError,
};

/**
 * The contract's HTTP status for each server error code.
 *
 * @example
 * STATUS_BY_CODE["op.conflict"]; // 409
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  "auth.unauthorized": 401,
  "auth.forbidden": 403,
  "op.invalid_input": 400,
  "op.not_found": 404,
  "op.already_exists": 409,
  "op.conflict": 409,
  "op.precondition_failed": 412,
  "op.payload_too_large": 413,
  "op.too_large": 413,
  "op.not_a_regular_file": 400,
  "rate.resource_exhausted": 429,
  "service.internal": 500,
  "service.registry_unreachable": 502,
  "service.unavailable": 503,
  "service.insufficient_storage": 507,
};

function isWireError(v: unknown): v is WireError {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.code === "string" && typeof e.message === "string";
}

/**
 * Builds the typed error for a non-2xx response (or an in-stream error
 * frame). `body` may be the parsed JSON, the raw text, or undefined; the
 * envelope's `requestId` wins over the `x-request-id` header passed in.
 *
 * @example
 * throw fromWire(res.status, await res.text(), res.headers.get("x-request-id") ?? undefined);
 */
export function fromWire(status: number, body: unknown, requestId?: string): NimbusError {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const inner = typeof parsed === "object" && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
  if (!isWireError(inner)) {
    const text = typeof body === "string" ? body.trim().slice(0, 500) : "";
    return new NimbusError({
      code: "service.internal",
      status,
      requestId,
      message: `Nimbus answered HTTP ${status} without an error envelope${text ? `: ${text}` : ""}`,
      retryable: status >= 500 || status === 429,
    });
  }
  const Cls = CLASS_BY_CODE[inner.code] ?? NimbusError;
  return new Cls({
    code: inner.code,
    message: inner.message,
    status,
    requestId: typeof inner.requestId === "string" ? inner.requestId : requestId,
    detail: inner.detail ?? null,
    retryable: inner.retryable === true,
  });
}
