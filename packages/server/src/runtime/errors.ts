// runtime/errors.ts — the one error type the runtime module throws.
// Owns the fixed set of runtime failure kinds; the domain translates them into
// its own catalogue, so nothing here knows about HTTP or tenants.

/** What went wrong, coarsely enough for the domain to map to a state/reason. */
export type RuntimeErrorKind =
  | "not_found" // no container with that id is owned by this backend
  | "already_exists" // an id was reused before delete
  | "invalid_spec" // the spec cannot be turned into a bundle (bad id, empty args, ...)
  | "start_failed" // the OCI runtime or the monitor refused to create/start
  | "host_unsupported" // a binary or kernel feature is missing; the message says what to install/run
  | "lost" // the monitor vanished without recording an exit
  | "internal"; // a host command failed unexpectedly

export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  constructor(
    readonly kind: RuntimeErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRuntimeError(err: unknown, kind?: RuntimeErrorKind): err is RuntimeError {
  return err instanceof RuntimeError && (kind === undefined || err.kind === kind);
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;

/** Ids become directory names, cgroup names and runtime state keys: keep them path-safe. */
export function assertValidId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new RuntimeError(
      "invalid_spec",
      `container id ${JSON.stringify(id)} is not path-safe: use 1-100 characters of [a-z0-9-], starting with a letter or digit`,
    );
  }
}
