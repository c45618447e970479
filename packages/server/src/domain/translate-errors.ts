/**
 * The domain's translation of low-level module errors (images, runtime)
 * into the one catalogue. Their messages already say what to do next, so
 * they are kept; only the code is chosen here.
 */
import { ImageError } from "../images/errors.js";
import { RuntimeError } from "../runtime/errors.js";
import { AppError, type ErrorCode } from "./errors.js";

const IMAGE_CODES: Record<ImageError["kind"], ErrorCode> = {
  invalid_reference: "op.invalid_input",
  not_found: "op.not_found",
  unauthorized: "auth.forbidden",
  digest_mismatch: "service.unavailable",
  unsafe_layer: "op.invalid_input",
  invalid_archive: "op.invalid_input",
  network: "service.unavailable",
  unsupported: "op.invalid_input",
  aborted: "op.conflict",
  too_large: "op.too_large",
};

const RUNTIME_CODES: Record<RuntimeError["kind"], ErrorCode> = {
  not_found: "op.not_found",
  already_exists: "op.conflict",
  invalid_spec: "op.invalid_input",
  start_failed: "service.unavailable",
  host_unsupported: "service.unavailable",
  lost: "service.unavailable",
  internal: "service.internal",
};

export function translateImageError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ImageError) return new AppError(IMAGE_CODES[err.kind], err.message, { cause: err, detail: { registry: err.registry ?? null, reference: err.reference ?? null, kind: err.kind, ...err.detail } });
  return new AppError("service.internal", `pulling the image failed unexpectedly: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export function translateRuntimeError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof RuntimeError) return new AppError(RUNTIME_CODES[err.kind], err.message, { cause: err, detail: { kind: err.kind } });
  return new AppError("service.internal", `starting the container failed unexpectedly: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
