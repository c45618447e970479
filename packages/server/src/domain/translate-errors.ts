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
  network: "service.registry_unreachable",
  unsupported: "op.invalid_input",
  aborted: "op.conflict",
  too_large: "op.too_large",
  forbidden_destination: "service.registry_unreachable",
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

/**
 * One message for every way a registry can be out of reach (refused, timed
 * out, reset, a forbidden destination): telling them apart would let a
 * tenant scan ports and addresses through the server. The details stay on
 * the ImageError, the cause, which the caller logs.
 */
export const REGISTRY_UNREACHABLE_MESSAGE =
  "the image registry could not be reached; check the image reference, and if it is right ask the operator (the details are in the server log)";

export function translateImageError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ImageError && IMAGE_CODES[err.kind] === "service.registry_unreachable") {
    return new AppError("service.registry_unreachable", REGISTRY_UNREACHABLE_MESSAGE, { cause: err, detail: { reference: err.reference ?? null } });
  }
  if (err instanceof ImageError)
    return new AppError(IMAGE_CODES[err.kind], err.message, {
      cause: err,
      detail: { registry: err.registry ?? null, reference: err.reference ?? null, kind: err.kind, ...err.detail },
    });
  return new AppError("service.internal", `pulling the image failed unexpectedly: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export function translateRuntimeError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof RuntimeError) return new AppError(RUNTIME_CODES[err.kind], err.message, { cause: err, detail: { kind: err.kind } });
  return new AppError("service.internal", `starting the container failed unexpectedly: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
