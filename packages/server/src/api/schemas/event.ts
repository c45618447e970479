/**
 * Lines of the tenant event stream (`GET …/events`): one resource change
 * per line, typed by `type`, plus `{"type":"heartbeat"}` lines that keep
 * idle proxies from closing the stream.
 */
import { Type } from "@sinclair/typebox";
import { ndjsonLineOf, strictObject } from "./common.js";
import { EgressDecisionSchema, SandboxResource, literals } from "./sandbox.js";
import { ServiceViewResource } from "./service.js";
import { SessionResource } from "./session.js";

const ChangeAction = literals(["updated", "deleted"] as const);

/**
 * (ext) A refused connection attempt or DNS query: the decision log's row without its seq, plus the sandbox.
 * At most 20 a second per sandbox; past that, one event at the end of the second carries the last
 * refusal with `suppressedCount`, how many refusals it stands for (all of them are in the log).
 */
export const EgressDenialSchema = strictObject({
  ...EgressDecisionSchema.properties,
  sandboxId: Type.String(),
  suppressedCount: Type.Optional(Type.Integer({ minimum: 1 })),
});

export const NimbusEventSchema = Type.Union([
  strictObject({ type: Type.Literal("sandbox"), action: ChangeAction, resource: SandboxResource }),
  strictObject({ type: Type.Literal("service"), action: ChangeAction, resource: ServiceViewResource }),
  strictObject({ type: Type.Literal("session"), action: ChangeAction, resource: SessionResource }),
  strictObject({ type: Type.Literal("egress"), action: Type.Literal("denied"), resource: EgressDenialSchema }),
]);

/** One line of the stream. */
export const EventLineSchema = ndjsonLineOf(NimbusEventSchema);
