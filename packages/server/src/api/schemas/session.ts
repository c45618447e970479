/**
 * Wire schemas of the session routes (contract §5). The target union is
 * externally tagged; both members are optional here and the domain insists
 * on exactly one, so the error names `target` instead of "no union member
 * matched". Channel names and uniqueness are checked in the domain too, so
 * the message can name the offending channel.
 */
import { Type } from "@sinclair/typebox";
import { PageQuery, PathNameSchema, TenantIdSchema, strictObject } from "./common.js";
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

const Timestamp = Type.String({ format: "date-time" });

export const SessionResource = Type.Object({
  metadata: Type.Object({
    tenantId: Type.String(),
    id: Type.String(),
    generation: Type.Integer(),
    resourceVersion: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  }),
  spec: Type.Object({
    target: SessionTargetSchema,
    targetSnapshot: Type.Union([
      Type.Object({ sandbox: Type.Object({ id: Type.String(), generation: Type.Integer(), profile: Type.String(), backend: Type.String() }) }),
      Type.Object({ service: Type.Object({ name: Type.String(), generation: Type.Integer(), backend: Type.String(), sandboxId: Type.String() }) }),
    ]),
    channels: Type.Array(Type.String()),
    expiresAt: Timestamp,
  }),
  status: Type.Object({
    lifecycleState: Type.Union(SESSION_STATES.map((s) => Type.Literal(s))),
    expiresAt: Timestamp,
    closedAt: Type.Optional(Timestamp),
    closeReason: Type.Optional(Type.String()),
    conditions: Type.Array(
      Type.Object({
        type: Type.Literal("Open"),
        status: Type.Union([Type.Literal("True"), Type.Literal("False")]),
        reason: Type.Union(["LeaseActive", "ClientClosed", "LeaseExpired", "TargetStopped"].map((r) => Type.Literal(r))),
        message: Type.String(),
        observedGeneration: Type.Integer(),
        lastTransitionTime: Timestamp,
      }),
    ),
  }),
});
