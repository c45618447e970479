/**
 * Wire schemas of the sandbox routes (contract §4). Unions the contract
 * distinguishes by `kind` are checked with a string here and refined in
 * the route, so the error names the exact problem instead of "no union
 * member matched".
 */
import { Type } from "@sinclair/typebox";
import {
  ConditionSchema,
  EndpointSchema,
  LabelsSchema,
  PageQuery,
  PathNameSchema,
  RedactedSchema,
  ResourceMetadataSchema,
  TenantIdSchema,
  TimestampSchema,
  strictObject,
} from "./common.js";
import { SANDBOX_REASONS, SANDBOX_STATES } from "../../domain/sandbox-state.js";

export { LabelsSchema };

const Arg = Type.String({ maxLength: 128 * 1024 });
const ArgList = Type.Array(Arg, { maxItems: 4096 });

/** 1 TiB: the largest memoryLimitBytes a spec may ask for. */
export const MAX_MEMORY_LIMIT_BYTES = 2 ** 40;
/** 1 PiB: the largest diskLimitBytes a spec may ask for. */
export const MAX_DISK_LIMIT_BYTES = 2 ** 50;

export const ProcessSchema = strictObject({
  argv: Type.Optional(Type.Array(Arg, { minItems: 1, maxItems: 4096 })),
  args: Type.Optional(Type.Array(Arg, { minItems: 1, maxItems: 4096 })),
  entrypoint: Type.Optional(ArgList),
  command: Type.Optional(ArgList),
  env: Type.Optional(Type.Array(Type.String({ pattern: "^[^=\\u0000]+=[^\\u0000]*$", maxLength: 128 * 1024 }), { maxItems: 4096 })),
  cwd: Type.Optional(Type.String({ pattern: "^/[^\\u0000]*$", maxLength: 4096 })),
  // A part is a name (starts with a letter, _ or .) or a decimal id; domain/user-ids.ts checks ids are in 0..4294967294.
  user: Type.Optional(
    Type.String({
      pattern: "^(?:[A-Za-z_.][A-Za-z0-9_.-]*|0|[1-9][0-9]{0,9})(?::(?:[A-Za-z_.][A-Za-z0-9_.-]*|0|[1-9][0-9]{0,9}))?$",
      maxLength: 256,
      description: "user[:group]: names from the image's /etc/passwd and /etc/group, or decimal ids in 0..4294967294",
    }),
  ),
  terminal: Type.Optional(Type.Boolean()),
  init: Type.Optional(Type.Boolean({ description: "run catatonit as PID 1: it forwards signals to the process and reaps zombies; default false" })),
  closableStdin: Type.Optional(
    Type.Boolean({
      description:
        "(ext) an `eof` on the stdio channel closes the process's stdin (as `nimbus run` does with piped input); it stays open otherwise, across sessions and server restarts. The price: a slow stdio reader is cut off (`slow_reader`) instead of holding the process back. Pipes only, not with `terminal`; default false",
    }),
  ),
});

/** 30 days: the longest TTL or idle timeout a spec (or a tenant default) may ask for. */
export const MAX_LIFETIME_SECONDS = 30 * 24 * 3600;

export const LifetimeSchema = strictObject({
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIFETIME_SECONDS, description: "seconds from create until the sandbox expires" })),
  idleTimeoutSeconds: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_LIFETIME_SECONDS,
      description: "seconds without activity (no open session, no stdio/exec/process IO, no proxy traffic) until it expires",
    }),
  ),
  onExpire: Type.Optional(Type.Union([Type.Literal("stop"), Type.Literal("delete")], { description: "default stop" })),
});

/** One egress allow rule (docs/networking.md); at most 64 per sandbox. */
export const EgressRulesSchema = Type.Array(
  strictObject({
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "default 443 for https, 80 for http; required for tcp" })),
    protocol: Type.Union([Type.Literal("tcp"), Type.Literal("http"), Type.Literal("https")]),
    methods: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 16 }), { maxItems: 16 })),
    pathPrefixes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 64 })),
  }),
  { maxItems: 64 },
);

export const SandboxSpecSchema = strictObject({
  tenantId: Type.Optional(TenantIdSchema),
  owner: strictObject({
    kind: Type.String({ description: "standalone (service-owned sandboxes are made by services)" }),
    displayName: Type.Optional(Type.String({ maxLength: 128 })),
    serviceName: Type.Optional(Type.String({ maxLength: 253 })),
  }),
  backend: Type.String({ description: "container" }),
  root: strictObject({
    kind: Type.Literal("oci_image"),
    source: strictObject({ kind: Type.Literal("reference"), reference: Type.String({ minLength: 1, maxLength: 1024 }) }),
  }),
  process: Type.Optional(ProcessSchema),
  resources: Type.Optional(
    strictObject({
      cpuCount: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024 })),
      // Maxima keep every value exact in a double and far above any host; the tenant quota clamps further.
      memoryLimitBytes: Type.Optional(Type.Integer({ minimum: 8 * 1024 * 1024, maximum: MAX_MEMORY_LIMIT_BYTES })),
      pidsLimit: Type.Optional(Type.Integer({ minimum: 8, maximum: 1_000_000 })),
      diskLimitBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DISK_LIMIT_BYTES })),
    }),
  ),
  network: Type.Optional(
    strictObject({
      egress: Type.Optional(EgressRulesSchema),
      secrets: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
          maxItems: 32,
          description: "tenant secrets the sandbox may use through the egress proxy; it sees only placeholders",
        }),
      ),
    }),
  ),
  lifetime: Type.Optional(LifetimeSchema),
  ports: Type.Optional(
    Type.Array(
      strictObject({
        name: Type.Optional(Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,30}$" })),
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
        protocol: Type.Optional(Type.Union([Type.Literal("tcp"), Type.Literal("http")])),
        publish: Type.Optional(
          Type.Union([Type.Literal("proxy"), Type.Literal("host")], {
            description: "(ext) proxy (default): only through the authenticated service proxy; host: also an unauthenticated listener on 127.0.0.1",
          }),
        ),
      }),
      { maxItems: 16 },
    ),
  ),
});

export const CreateSandboxBody = strictObject({
  profile: Type.Union([Type.Literal("worker"), Type.Literal("desktop")]),
  spec: SandboxSpecSchema,
  labels: Type.Optional(LabelsSchema),
});

export const SandboxParams = strictObject({ tenantId: TenantIdSchema, id: PathNameSchema });

export const ListSandboxesQuery = strictObject({
  ...PageQuery,
  status: Type.Optional(Type.Union(SANDBOX_STATES.map((s) => Type.Literal(s)))),
  labelKey: Type.Optional(Type.String({ minLength: 1, maxLength: 317 })),
  labelValue: Type.Optional(Type.String({ maxLength: 63 })),
});

export const StopSandboxBody = strictObject({
  gracePeriodMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000, description: "time between SIGTERM and SIGKILL; default 10000" })),
});

export const DeleteSandboxQuery = strictObject({
  gracePeriodMs: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 300_000, description: "time between SIGTERM and SIGKILL when the sandbox is running; default 10000, 0 kills at once" }),
  ),
});

export const ExtendSandboxBody = strictObject(
  {
    addSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, description: "seconds added to the current deadline (or to now, without one)" }),
    ),
    expiresAt: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the new deadline (ISO 8601), at most 7 days from now" })),
  },
  "one of addSeconds or expiresAt",
);

export const LogsQuery = strictObject({
  follow: Type.Optional(Type.Union([Type.Literal("1"), Type.Literal("true"), Type.Literal("0"), Type.Literal("false")])),
  tail: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
});

export const EventsQuery = strictObject({
  kind: Type.Optional(Type.Union([Type.Literal("sandbox"), Type.Literal("session"), Type.Literal("service"), Type.Literal("egress")])),
  id: Type.Optional(PathNameSchema),
  name: Type.Optional(PathNameSchema),
});

const literals = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const LifecycleStateSchema = literals(SANDBOX_STATES, "pending → starting → ready → stopping → stopped; any state may become failed");
export const ReadinessSchema = literals(["not_ready", "ready", "stopped", "failed"] as const);
export const HealthSchema = literals(["unknown", "healthy", "unhealthy"] as const);
export const SandboxReasonSchema = literals(SANDBOX_REASONS, "(ext) why the sandbox ended");
export const SandboxProfileSchema = literals(["worker", "desktop"] as const);

/** The process as the server echoes it: launch inputs only as value counts, env as `environment`. */
export const RedactedProcessSchema = strictObject({
  argv: RedactedSchema,
  entrypoint: Type.Optional(RedactedSchema),
  command: Type.Optional(RedactedSchema),
  environment: RedactedSchema,
  cwd: Type.String(),
  user: Type.Optional(Type.String()),
  terminal: Type.Boolean(),
  init: Type.Optional(Type.Boolean()),
  closableStdin: Type.Optional(Type.Boolean()),
});

const SpecFields = SandboxSpecSchema.properties;

/** Who owns a sandbox, as the resource reports it (the create body checks `kind` in the domain). */
export const SandboxOwnerSchema = Type.Union([
  strictObject({ kind: Type.Literal("standalone"), displayName: Type.Optional(Type.String()) }),
  strictObject({ kind: Type.Literal("service"), serviceName: Type.Optional(Type.String()) }),
]);

/** The observed state of a sandbox. */
export const SandboxStatusSchema = strictObject({
  lifecycleState: LifecycleStateSchema,
  readiness: ReadinessSchema,
  health: HealthSchema,
  backend: Type.String(),
  endpoints: Type.Array(EndpointSchema),
  conditions: Type.Array(ConditionSchema),
  exitCode: Type.Optional(Type.Integer()),
  reason: Type.Optional(SandboxReasonSchema),
  phases: Type.Optional(strictObject({ pullMs: Type.Optional(Type.Number()), createMs: Type.Optional(Type.Number()), startMs: Type.Optional(Type.Number()) })),
  imageDigest: Type.Optional(Type.String()),
  expiresAt: Type.Optional(TimestampSchema),
  idleExpiresAt: Type.Optional(TimestampSchema),
});

/** A sandbox as create, get, stop, list and the event stream return it. */
export const SandboxResource = strictObject({
  metadata: strictObject({ ...ResourceMetadataSchema.properties, labels: LabelsSchema }),
  spec: strictObject({
    profile: SandboxProfileSchema,
    sandbox: strictObject({
      tenantId: Type.String(),
      owner: SandboxOwnerSchema,
      backend: Type.String(),
      root: SpecFields.root,
      process: RedactedProcessSchema,
      resources: SpecFields.resources,
      network: SpecFields.network,
      lifetime: SpecFields.lifetime,
      ports: SpecFields.ports,
    }),
  }),
  status: SandboxStatusSchema,
});

/** One egress decision: what was tried, and whether it was let through (a log row's fields but its seq). */
export const EgressDecisionSchema = strictObject({
  at: TimestampSchema,
  kind: literals(["connect", "dns"] as const),
  name: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([Type.String(), Type.Null()]),
  port: Type.Union([Type.Integer(), Type.Null()]),
  protocol: Type.String(),
  decision: literals(["allowed", "denied"] as const),
  rule: Type.Union([Type.String(), Type.Null()], { description: "the index of the deciding rule in spec.network.egress, or always_refused:<class>" }),
  reason: Type.Union([Type.String(), Type.Null()]),
  bytesUp: Type.Union([Type.Integer(), Type.Null()]),
  bytesDown: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
});

/** One row of a sandbox's egress decision log. */
export const EgressLogEntrySchema = strictObject({ seq: Type.Integer(), ...EgressDecisionSchema.properties });

export { literals };
