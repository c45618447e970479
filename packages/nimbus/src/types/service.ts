/**
 * Wire types of services (contract §6): definitions and runtime views.
 */
import type { Endpoint, Labels, Timestamp } from "./common.js";
import type { Health, LifecycleState, Readiness, SandboxSpec } from "./sandbox.js";

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
  | { kind: "sandbox"; sandbox: SandboxSpec }
  | { kind: "builtIn"; [field: string]: unknown }
  | { kind: "external"; [field: string]: unknown };

/**
 * The spec of a service definition.
 *
 * @example
 * const spec: ServiceSpec = { backend: { kind: "sandbox", sandbox: spec }, restartPolicy: "always" };
 */
export interface ServiceSpec {
  backend: ServiceBackend;
  /** @default "never" */
  restartPolicy?: RestartPolicy;
  maxRestarts?: number;
}

/**
 * A stored service definition.
 *
 * @example
 * const def: ServiceDefinition = await nimbus.services.create({ metadata: { name: "worker" }, spec });
 * console.log(def.metadata.generation); // 1
 */
export interface ServiceDefinition {
  metadata: {
    tenantId: string;
    name: string;
    generation: number;
    createdAt: Timestamp;
    updatedAt: Timestamp;
    labels: Labels;
  };
  spec: ServiceSpec;
}

/**
 * The runtime view of a service: what is running under its name now.
 *
 * @example
 * const view: ServiceView = await nimbus.services.get({ name: "worker" });
 * console.log(view.sandboxId, view.restartCount);
 */
export interface ServiceView {
  tenantId: string;
  name: string;
  sandboxId?: string;
  backend?: string;
  /** The service's own state, e.g. `"running"`, `"stopped"`, `"declared"`. */
  state: string;
  lifecycleState: LifecycleState | (string & {});
  readiness: Readiness | (string & {});
  health: Health | (string & {});
  endpoints: Endpoint[];
  restartCount: number;
}
