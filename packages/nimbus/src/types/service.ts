/**
 * Wire types of services (contract §6): definitions and runtime views.
 */
import type { Condition, Endpoint, Labels, Timestamp } from "./common.js";
import type { Health, LifecycleState, Readiness, RedactedProcess, SandboxSpec } from "./sandbox.js";

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
 * A service's own state (its supervisor's state table).
 *
 * @example
 * if (view.state === "failed") console.log(view.message);
 */
export type ServiceState = "declared" | "stopped" | "starting" | "running" | "restarting" | "stopping" | "failed";

/**
 * Readiness probe (ext): the service is `ready` only after it passes, and
 * `health` reflects it afterwards. Give exactly one of `http` (a GET on a
 * declared port; 2xx/3xx passes) or `tcp` (something listens on the port).
 *
 * @example
 * const probe: ReadinessProbe = { http: { path: "/healthz", port: 8080 }, periodMs: 500 };
 */
export interface ReadinessProbe {
  http?: { path: string; port: number };
  tcp?: { port: number };
  /** @default 1000 */
  periodMs?: number;
  /** @default 1000 */
  timeoutMs?: number;
  /** Consecutive failures before a ready service reports `unhealthy`. @default 3 */
  failureThreshold?: number;
}

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
    /** Where the definition came from: `"dynamic"` for one created through the API. */
    source: "dynamic" | (string & {});
  };
  /** `Accepted` and `Ready`, each with the generation it describes. */
  status: { conditions: Condition[] };
  /** The spec as stored; a sandbox backend's launch inputs come back only as value counts. */
  spec: Omit<ServiceSpec, "backend"> & {
    backend: { kind: "sandbox"; sandbox: Omit<SandboxSpec, "process"> & { process?: Partial<RedactedProcess> } } | Exclude<ServiceBackend, { kind: "sandbox" }>;
  };
}

/**
 * The answer to a restart sent with `sourceGeneration` and/or `requestId`
 * (202); a repeated `requestId` gets the same receipt.
 *
 * @example
 * const r: ServiceRestartReceipt = await nimbus.services.requestRestart({ name: "web", sourceGeneration: 2, requestId: "deploy-42" });
 */
export interface ServiceRestartReceipt {
  kind: "ServiceRestart";
  /** Names this restart: the requestId, or one the server chose. */
  restartId: string;
  requestId?: string;
  tenantId: string;
  name: string;
  /** The definition generation the restart ran against. */
  sourceGeneration: number;
  /** The sandbox this restart launched. */
  sandboxId: string | null;
  acceptedAt: Timestamp;
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
  state: ServiceState;
  lifecycleState: LifecycleState | (string & {});
  readiness: Readiness | (string & {});
  health: Health | (string & {});
  endpoints: Endpoint[];
  restartCount: number;
  /** (ext) The definition's generation (what `update`/`delete` must send). */
  generation?: number;
  /** (ext) How the last backing sandbox ended. */
  exitCode?: number;
  /** (ext) What happened last, in words. */
  message?: string;
}
