/**
 * Wire types of the tenant event stream (ext): one JSON object per line.
 */
/** Generated from the server's schemas: see ../wire.ts. */
import type { NimbusEvent } from "../wire.js";
export type { NimbusEvent };

/**
 * What happened to a resource.
 *
 * @example
 * if (event.action === "deleted") forget(event.resource);
 */
export type EventAction = NimbusEvent["action"];

/**
 * The kinds of resources the event stream can be filtered to.
 *
 * @example
 * nimbus.events.stream({ kind: "service" });
 */
export type EventKind = NimbusEvent["type"];
