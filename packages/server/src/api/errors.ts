/**
 * The single place where errors become HTTP responses. AppErrors carry their
 * own code and message; anything else is a fault of ours: logged with its
 * cause, answered as a generic 500 that never leaks internals.
 */
import type { ServerResponse } from "node:http";
import { AppError, ERROR_CATALOGUE } from "../domain/errors.js";
import type { Logger } from "../log.js";

export interface ErrorEnvelope {
  error: { code: string; message: string; requestId: string; retryable: boolean; detail: Record<string, unknown> | null };
}

export function toAppError(err: unknown, log: Logger): AppError {
  if (err instanceof AppError) return err;
  log.error("unhandled error", { err });
  return new AppError("service.internal", "the server hit an unexpected error; the request id is in the server log with the cause");
}

export function errorEnvelope(err: AppError, requestId: string): ErrorEnvelope {
  return {
    error: { code: err.code, message: err.message, requestId, retryable: ERROR_CATALOGUE[err.code].retryable, detail: err.detail },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

export function sendError(res: ServerResponse, err: unknown, requestId: string, log: Logger): AppError {
  const appErr = toAppError(err, log);
  sendJson(res, appErr.status, errorEnvelope(appErr, requestId), appErr.headers);
  return appErr;
}
