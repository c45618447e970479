/**
 * Schemas shared by several routes. Identifier rules here mirror
 * domain/ids.ts; the domain re-checks, so a route that forgets a schema
 * cannot let a bad id through.
 */
import { Type, type TSchema } from "@sinclair/typebox";

export const TenantIdSchema = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^[A-Za-z0-9_-]+$",
  description: "1-128 characters of A-Z a-z 0-9 _ -; ids starting with _ are reserved",
});

/** Names and ids in paths: non-empty, no '/', no surrounding whitespace, no control characters. */
export const PathNameSchema = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: "^[^/\\s\\u0000-\\u001f\\u007f](?:[^/\\u0000-\\u001f\\u007f]*[^/\\s\\u0000-\\u001f\\u007f])?$",
});

export const TenantParams = Type.Object({ tenantId: TenantIdSchema }, { additionalProperties: false });

export function strictObject<T extends Record<string, TSchema>>(props: T, description?: string) {
  return Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
}

/** The inner object of the error envelope; `detail` is free-form by design (it names what the code's message names). */
export const WireErrorSchema = strictObject({
  code: Type.String({ description: "a code of docs/errors.md, e.g. op.not_found" }),
  message: Type.String({ description: "what went wrong and what to do next" }),
  requestId: Type.String(),
  retryable: Type.Boolean(),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

/** The body of every non-2xx response. */
export const ErrorEnvelopeSchema = strictObject({ error: WireErrorSchema });

/** An RFC 3339 UTC timestamp, e.g. 2026-11-28T10:00:00.000Z. */
export const TimestampSchema = Type.String({ format: "date-time" });

/** String key/value labels attached to a resource. */
export const LabelsSchema = Type.Record(Type.String(), Type.String());

/** A Kubernetes-style status condition. */
export const ConditionSchema = strictObject({
  type: Type.String(),
  status: Type.Union([Type.Literal("True"), Type.Literal("False"), Type.Literal("Unknown")]),
  reason: Type.String(),
  message: Type.String(),
  observedGeneration: Type.Integer(),
  lastTransitionTime: TimestampSchema,
});

/** Metadata every sandbox and session resource carries. */
export const ResourceMetadataSchema = strictObject({
  tenantId: Type.String(),
  id: Type.String(),
  generation: Type.Integer(),
  resourceVersion: Type.String(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});

/** (ext) A declared port of a ready sandbox: host/port only with publish "host" (an unauthenticated loopback listener). */
export const EndpointSchema = strictObject({
  name: Type.String(),
  protocol: Type.String(),
  targetPort: Type.Integer({ description: "the port inside the sandbox" }),
  publish: Type.Union([Type.Literal("proxy"), Type.Literal("host")]),
  host: Type.Optional(Type.String({ description: "only with publish host: the listener's address" })),
  port: Type.Optional(Type.Integer({ description: "only with publish host: the listener's port" })),
});

/** A launch input the server never echoes back: only its value count. */
export const RedactedSchema = strictObject({ redacted: Type.Literal(true), valueCount: Type.Integer({ minimum: 0 }) });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ description: "page size, clamped to 1..100", default: 100 })),
  pageToken: Type.Optional(Type.String({ maxLength: 512, description: "the last id of the previous page" })),
};

/** Metadata of a paged collection. */
export const CollectionMetadataSchema = strictObject({
  tenantId: Type.String(),
  resourceVersion: Type.String(),
  limit: Type.Integer({ description: "the page size the server used (clamped to 1..100)" }),
  nextPageToken: Type.Optional(Type.String({ description: "pageToken of the next page; absent on the last page" })),
  remainingCount: Type.Integer(),
});

/** A page of a collection (contract §1): metadata, then the items in order. */
export function collectionOf<T extends TSchema>(item: T) {
  return strictObject({ metadata: CollectionMetadataSchema, items: Type.Array(item) });
}

/** Written to every NDJSON stream every 15 s so idle proxies keep it open; clients skip it. */
export const HeartbeatSchema = strictObject({ type: Type.Literal("heartbeat") });

/** A line of an NDJSON stream: one of the frames, or a heartbeat. */
export const ndjsonLineOf = <T extends TSchema>(frame: T) => Type.Union([frame, HeartbeatSchema]);

const Offset = Type.Integer({ minimum: 0 });
const Output = Type.Union([Type.Literal("stdout"), Type.Literal("stderr")]);
const ErrorFrame = strictObject({ kind: Type.Literal("error"), error: WireErrorSchema });

/** One line of a stdio channel's NDJSON stream (docs/sessions.md); cursors are byte offsets into the output log. */
export const ChannelFrameSchema = Type.Union([
  strictObject({
    kind: Type.Literal("opened"),
    channel: Type.String(),
    targetGeneration: Type.Integer(),
    cursor: Type.Optional(Type.Integer({ minimum: 0, description: "where the output that follows starts" })),
    oldestCursor: Type.Optional(Type.Integer({ minimum: 0, description: "the oldest offset still kept" })),
    head: Type.Optional(Type.Integer({ minimum: 0, description: "the offset after the newest output when the channel opened" })),
    requestedCursor: Type.Optional(Type.Integer({ minimum: 0, description: "the cursor asked for, when it was past head and the channel started at head" })),
  }),
  strictObject(
    {
      kind: Type.Literal("gap"),
      from: Offset,
      to: Offset,
      reason: Type.Union([Type.Literal("log_capped"), Type.Literal("disk_full")], {
        description: "log_capped: the output log was rotated past this reader; disk_full: the host's disk filled, output from `from` may be missing",
      }),
    },
    "output in [from, to) is gone (the log's cap dropped it)",
  ),
  strictObject({
    kind: Output,
    data: Type.String(),
    encoding: Type.Optional(Type.Literal("base64")),
    cursor: Type.Optional(Type.Integer({ minimum: 0, description: "the offset after this chunk" })),
  }),
  strictObject({ kind: Type.Literal("exit"), code: Type.Union([Type.Integer(), Type.Null()]) }),
  strictObject({ kind: Type.Literal("closed"), reason: Type.String() }),
  ErrorFrame,
]);

/** One line of an exec NDJSON stream: output in base64, then the exit (or an error). */
export const ExecFrameSchema = Type.Union([
  strictObject({ kind: Output, data: Type.String(), encoding: Type.Literal("base64") }),
  strictObject({
    kind: Type.Literal("exit"),
    code: Type.Union([Type.Integer(), Type.Null()]),
    timedOut: Type.Optional(Type.Boolean({ description: "the exec's timeout killed it" })),
  }),
  ErrorFrame,
]);
