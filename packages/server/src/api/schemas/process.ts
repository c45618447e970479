/** Wire schemas of the processes API (`…/sandboxes/{id}/processes`). */
import { Type } from "@sinclair/typebox";
import { strictObject } from "./common.js";

/** A terminal's size in character cells. */
export const TtySize = { cols: Type.Integer({ minimum: 1, maximum: 65535 }), rows: Type.Integer({ minimum: 1, maximum: 65535 }) };

/** A process as the server reports it: the SDK's `ProcessInfo`, the domain's `ProcessView`. */
export const ProcessInfoSchema = strictObject({
  id: Type.String(),
  sandboxId: Type.String(),
  argv: Type.Array(Type.String()),
  cwd: Type.String(),
  user: Type.String(),
  stdin: Type.Boolean(),
  tty: Type.Optional(strictObject(TtySize)),
  detach: Type.Boolean(),
  timeoutMs: Type.Optional(Type.Integer()),
  state: Type.Union([Type.Literal("running"), Type.Literal("exited")]),
  exitCode: Type.Optional(Type.Integer({ description: "128+N when it died from signal N; -1 when its monitor was lost" })),
  signal: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String({ description: "why it ended when not by itself: timeout, killed, abandoned, lost" })),
  createdAt: Type.String({ format: "date-time" }),
  endedAt: Type.Optional(Type.String({ format: "date-time" })),
});
