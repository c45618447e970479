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

export const ErrorEnvelopeSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    requestId: Type.String(),
    retryable: Type.Boolean(),
    detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  }),
});

export function strictObject<T extends Record<string, TSchema>>(props: T, description?: string) {
  return Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ description: "page size, clamped to 1..100", default: 100 })),
  pageToken: Type.Optional(Type.String({ maxLength: 512, description: "the last id of the previous page" })),
};

/** A page of a collection (contract §1): metadata, then the items in order. */
export function collectionOf<T extends TSchema>(item: T) {
  return Type.Object({
    metadata: Type.Object({
      tenantId: Type.String(),
      resourceVersion: Type.String(),
      limit: Type.Integer(),
      nextPageToken: Type.Optional(Type.String()),
      remainingCount: Type.Integer(),
    }),
    items: Type.Array(item),
  });
}

/** One line of a channel's NDJSON stream: `kind` names the frame, the rest depends on it. */
export const ChannelFrameSchema = Type.Object(
  { kind: Type.String() },
  { additionalProperties: true, description: "opened, gap, stdout, stderr, exit, closed or error; see docs/sessions.md" },
);
