/**
 * Wire schemas of the session routes (contract §5). The target union is
 * externally tagged; both members are optional here and the domain insists
 * on exactly one, so the error names `target` instead of "no union member
 * matched". Channel names and uniqueness are checked in the domain too, so
 * the message can name the offending channel.
 */
import { Type } from "@sinclair/typebox";
import { ConditionSchema, PageQuery, PathNameSchema, ResourceMetadataSchema, TenantIdSchema, TimestampSchema, strictObject } from "./common.js";
import { SESSION_STATES } from "../../domain/session-state.js";

const TtlMs = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "lease length in ms; default 900000, clamped to 3600000" });

export const SessionTargetSchema = strictObject(
  {
    sandbox: Type.Optional(strictObject({ id: PathNameSchema })),
    service: Type.Optional(strictObject({ name: PathNameSchema })),
  },
  'exactly one of {"sandbox":{"id"}} or {"service":{"name"}}',
);

export const OpenSessionBody = strictObject({
  tenantId: Type.Optional(TenantIdSchema),
  target: SessionTargetSchema,
  channels: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { description: "1-8 unique channels: stdio, files, exec", maxItems: 64 }),
  requestedTtlMs: Type.Optional(TtlMs),
});

export const SessionParams = strictObject({ id: PathNameSchema });

export const TenantQuery = strictObject({ tenantId: Type.Optional(TenantIdSchema) });

export const ListSessionsQuery = strictObject({
  tenantId: Type.Optional(TenantIdSchema),
  ...PageQuery,
  state: Type.Optional(
    Type.Union(
      SESSION_STATES.map((s) => Type.Literal(s)),
      { description: "filter by lifecycle state (upstream's name)" },
    ),
  ),
  status: Type.Optional(
    Type.Union(
      SESSION_STATES.map((s) => Type.Literal(s)),
      { description: "alias of state" },
    ),
  ),
});

export const CloseSessionBody = strictObject({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "recorded as status.closeReason; default client_closed" })),
});

export const RenewSessionBody = strictObject({
  tenantId: Type.Optional(TenantIdSchema),
  requestedTtlMs: TtlMs,
});

export const SessionStateSchema = Type.Union(SESSION_STATES.map((s) => Type.Literal(s)));
export const SessionChannelSchema = Type.Union([Type.Literal("stdio"), Type.Literal("files"), Type.Literal("exec")]);

/** What the session pinned when it opened. */
export const TargetSnapshotSchema = Type.Union([
  strictObject({
    sandbox: strictObject({ id: Type.String(), generation: Type.Integer(), profile: Type.String(), backend: Type.String() }),
  }),
  strictObject({
    service: strictObject({
      name: Type.String(),
      generation: Type.Integer(),
      backend: Type.Union([Type.Literal("sandbox"), Type.Literal("builtIn"), Type.Literal("external")]),
      sandboxId: Type.String(),
    }),
  }),
]);

/** A session as open, get, list, close, renew and the event stream return it. */
export const SessionResource = strictObject({
  metadata: ResourceMetadataSchema,
  spec: strictObject({
    target: Type.Union([strictObject({ sandbox: strictObject({ id: Type.String() }) }), strictObject({ service: strictObject({ name: Type.String() }) })]),
    targetSnapshot: TargetSnapshotSchema,
    channels: Type.Array(SessionChannelSchema),
    expiresAt: TimestampSchema,
  }),
  status: strictObject({
    lifecycleState: SessionStateSchema,
    expiresAt: TimestampSchema,
    closedAt: Type.Optional(TimestampSchema),
    closeReason: Type.Optional(Type.String()),
    conditions: Type.Array(
      strictObject({
        ...ConditionSchema.properties,
        type: Type.Literal("Open"),
        status: Type.Union([Type.Literal("True"), Type.Literal("False")]),
        reason: Type.Union(["LeaseActive", "ClientClosed", "LeaseExpired", "TargetStopped"].map((r) => Type.Literal(r))),
      }),
    ),
  }),
});
