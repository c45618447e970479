/**
 * Wire types of the tenant event stream (ext): one JSON object per line.
 */
import type { EgressLogEntry, Sandbox } from "./sandbox.js";
import type { ServiceView } from "./service.js";
import type { Session } from "./session.js";

/**
 * What happened to a resource.
 *
 * @example
 * if (event.action === "deleted") forget(event.resource);
 */
export type EventAction = "created" | "updated" | "deleted";

/**
 * A lifecycle event of the tenant event stream. Heartbeat lines are
 * filtered out by the SDK.
 *
 * @example
 * for await (const e of nimbus.events.stream({ kind: "sandbox" }))
 *   if (e.type === "sandbox") console.log(e.resource.status.lifecycleState);
 */
export type NimbusEvent =
  | { type: "sandbox"; action: EventAction; resource: Sandbox }
  | { type: "service"; action: EventAction; resource: ServiceView }
  | { type: "session"; action: EventAction; resource: Session }
  /**
   * (ext) A sandbox's connection attempt or DNS query was refused (the decision log's row, without its seq).
   * At most 20 a second per sandbox; past that, one event at the end of the second carries the last
   * refusal with `suppressedCount`, how many refusals it stands for (all of them are in the log).
   */
  | { type: "egress"; action: "denied"; resource: Omit<EgressLogEntry, "seq"> & { sandboxId: string; suppressedCount?: number } };

/**
 * The kinds of resources the event stream can be filtered to.
 *
 * @example
 * nimbus.events.stream({ kind: "service" });
 */
export type EventKind = NimbusEvent["type"];
