/**
 * Wire schemas of the service routes (contract §6). The backend union is
 * checked by `kind` in the route (like the sandbox owner), so an error names
 * the exact field instead of "no union member matched".
 */
import { Type } from "@sinclair/typebox";
import { ConditionSchema, EndpointSchema, LabelsSchema, PageQuery, TenantIdSchema, TimestampSchema, strictObject } from "./common.js";
import { HealthSchema, RedactedProcessSchema, SandboxSpecSchema, literals } from "./sandbox.js";
import { SANDBOX_STATES } from "../../domain/sandbox-state.js";
import { SERVICE_STATES } from "../../domain/service-state.js";

/** Path-safe, DNS-label-like: it appears in paths, sandbox ids and hostnames. */
export const SERVICE_NAME_PATTERN = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";
export const ServiceNameSchema = Type.String({
  pattern: SERVICE_NAME_PATTERN,
  description: "1-63 characters of a-z 0-9 and -, starting and ending alphanumeric",
});

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const ReadinessProbeSchema = strictObject(
  {
    http: Type.Optional(strictObject({ path: Type.String({ pattern: "^/[^\\s\\u0000-\\u001f]*$", maxLength: 2048 }), port: Port })),
    tcp: Type.Optional(strictObject({ port: Port })),
    periodMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 300_000, default: 1000 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 })),
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 3 })),
  },
  "(ext) exactly one of http (GET on a declared port, 2xx/3xx passes) or tcp (something listens on the port)",
);

/** `kind` plus the kind's fields; `sandbox` is checked strictly, builtIn/external fields are recorded as given. */
export const ServiceBackendSchema = Type.Object(
  {
    kind: Type.String({ description: "sandbox | builtIn | external" }),
    sandbox: Type.Optional(SandboxSpecSchema),
  },
  { additionalProperties: true },
);

export const ServiceSpecSchema = strictObject({
  backend: ServiceBackendSchema,
  restartPolicy: Type.Optional(
    Type.Union([Type.Literal("never"), Type.Literal("on_failure"), Type.Literal("always")], { description: "(ext) default on_failure" }),
  ),
  maxRestarts: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: "(ext) default 5" })),
  readinessProbe: Type.Optional(ReadinessProbeSchema),
});

export const ServiceBody = strictObject({
  metadata: strictObject({
    tenantId: Type.Optional(TenantIdSchema),
    name: ServiceNameSchema,
    generation: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    labels: Type.Optional(LabelsSchema),
  }),
  spec: ServiceSpecSchema,
});

export const ServiceParams = strictObject({ tenantId: TenantIdSchema, name: ServiceNameSchema });

export const ProxyParams = strictObject({ tenantId: TenantIdSchema, name: ServiceNameSchema, path: Type.String() });

export const StopServiceBody = strictObject({
  gracePeriodMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000, description: "(ext) time between SIGTERM and SIGKILL; default 10000" })),
});

/** The empty body (or gracePeriodMs) is the old form; `sourceGeneration`/`requestId` is upstream's newer one, answered 202 with a receipt. */
export const RestartServiceBody = strictObject({
  gracePeriodMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000, description: "(ext) time between SIGTERM and SIGKILL; default 10000" })),
  sourceGeneration: Type.Optional(Type.Integer({ minimum: 1, description: "the definition generation the caller read; stale → 412" })),
  requestId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, pattern: "^[\\x21-\\x7e]+$", description: "idempotency key: a repeat gets the first answer's receipt" }),
  ),
});

export const RestartReceiptResource = strictObject({
  kind: Type.Literal("ServiceRestart"),
  restartId: Type.String(),
  requestId: Type.Optional(Type.String()),
  tenantId: Type.String(),
  name: Type.String(),
  sourceGeneration: Type.Integer(),
  sandboxId: Type.Union([Type.String(), Type.Null()]),
  acceptedAt: Type.String(),
});

export const ListServicesQuery = strictObject({ ...PageQuery });

export const DeleteServiceQuery = strictObject({
  ifMatchGeneration: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "the service's current generation" }),
  force: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false"), Type.Literal("1"), Type.Literal("0")])),
});

export const ServiceStateSchema = literals(SERVICE_STATES, "the service's own state (its supervisor's table)");

/** A builtIn or external backend: Nimbus records its fields as given and runs nothing. */
const DeclaredBackendSchema = Type.Object(
  { kind: literals(["builtIn", "external"] as const) },
  { additionalProperties: true, description: "the fields beyond kind are the caller's own, recorded as given" },
);

/** A stored service definition as create, update and get-definition answer it. */
export const ServiceDefinitionResource = strictObject({
  metadata: strictObject({
    tenantId: Type.String(),
    name: Type.String(),
    generation: Type.Integer(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    labels: LabelsSchema,
    source: Type.String({ description: 'where the definition came from: "dynamic" for one created through the API' }),
  }),
  spec: strictObject({
    backend: Type.Union([
      strictObject({
        kind: Type.Literal("sandbox"),
        sandbox: strictObject({
          ...SandboxSpecSchema.properties,
          process: Type.Optional(Type.Partial(RedactedProcessSchema, { additionalProperties: false })),
        }),
      }),
      DeclaredBackendSchema,
    ]),
    restartPolicy: ServiceSpecSchema.properties.restartPolicy,
    maxRestarts: ServiceSpecSchema.properties.maxRestarts,
    readinessProbe: ServiceSpecSchema.properties.readinessProbe,
  }),
  status: strictObject({ conditions: Type.Array(ConditionSchema, { description: "Accepted and Ready, each with the generation it describes" }) }),
});

/** The runtime view of a service: what is running under its name now. */
export const ServiceViewResource = strictObject({
  tenantId: Type.String(),
  name: Type.String(),
  generation: Type.Integer({ description: "(ext) the definition's generation: what update and delete must send" }),
  sandboxId: Type.Optional(Type.String()),
  backend: Type.String({ description: "the sandbox backend, or the declared backend's kind" }),
  state: ServiceStateSchema,
  lifecycleState: literals([...SANDBOX_STATES, "declared"] as const),
  readiness: literals(["not_ready", "ready", "stopped", "failed", "unknown"] as const),
  health: HealthSchema,
  endpoints: Type.Array(EndpointSchema),
  restartCount: Type.Integer({ minimum: 0 }),
  exitCode: Type.Optional(Type.Integer({ description: "(ext) how the last backing sandbox ended" })),
  message: Type.Optional(Type.String({ description: "(ext) what happened last, in words" })),
});
