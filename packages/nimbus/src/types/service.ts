/**
 * Wire types of services (contract §6): definitions and runtime views.
 */
/** Generated from the server's schemas: see ../wire.ts. */
import type { ServiceState, ReadinessProbe, ServiceDefinition, ServiceRestartReceipt, ServiceView } from "../wire.js";
export type { ServiceState, ReadinessProbe, ServiceDefinition, ServiceRestartReceipt, ServiceView };
import type { SandboxSpec } from "./sandbox.js";

/**
 * Restart policy of a supervised service (ext).
 *
 * @example
 * const policy: RestartPolicy = "on_failure";
 */
export type RestartPolicy = "never" | "on_failure" | "always";

/**
 * The backend of a service: a supervised sandbox, or a declared
 * `builtIn`/`external` backend that the server only records.
 *
 * @example
 * const backend: ServiceBackend = { kind: "sandbox", sandbox: spec };
 */
export type ServiceBackend =
  { kind: "sandbox"; sandbox: SandboxSpec } | { kind: "builtIn"; [field: string]: unknown } | { kind: "external"; [field: string]: unknown };

/**
 * The kind of a service's backend, as a session on the service records it.
 *
 * @example
 * const kind: ServiceBackendKind = "sandbox";
 */
export type ServiceBackendKind = "sandbox" | "builtIn" | "external";

/**
 * The spec of a service definition.
 *
 * @example
 * const spec: ServiceSpec = { backend: { kind: "sandbox", sandbox: spec }, restartPolicy: "always" };
 */
export interface ServiceSpec {
  backend: ServiceBackend;
  /** @default "on_failure" */
  restartPolicy?: RestartPolicy;
  /** Restarts before the service is left `failed`. @default 5 */
  maxRestarts?: number;
  readinessProbe?: ReadinessProbe;
}
