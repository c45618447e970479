/**
 * `nimbus.events` (ext): the tenant's lifecycle event stream as an async
 * iterable, so clients need not poll.
 */
import { followNdjson } from "./ndjson.js";
import { apiPath, type CallOptions, type Transport } from "./transport.js";
import type { EventKind, NimbusEvent } from "./types/event.js";

/**
 * Filters of {@link EventsApi.stream}.
 *
 * @example
 * nimbus.events.stream({ kind: "sandbox", id: "agent-task-01h..." });
 */
export interface EventStreamInput extends CallOptions {
  /** Only events about this kind of resource. @default all kinds */
  kind?: EventKind;
  /** Only events about the sandbox or session with this id. */
  id?: string;
  /** Only events about the service with this name. */
  name?: string;
}

/**
 * The tenant event stream.
 *
 * @example
 * const ac = new AbortController();
 * for await (const e of nimbus.events.stream({ kind: "sandbox", signal: ac.signal })) console.log(e.action);
 */
export class EventsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Yields each lifecycle event as it happens (heartbeats skipped). Stop by
   * leaving the loop or aborting `signal`.
   *
   * @example
   * for await (const e of nimbus.events.stream({ kind: "service" })) if (e.type === "service") console.log(e.resource.state);
   */
  async *stream(input: EventStreamInput = {}): AsyncGenerator<NimbusEvent, void, undefined> {
    const tenantId = this.#t.resolveTenantId(input.tenantId);
    const path = apiPath`/api/tenants/${tenantId}/events`;
    const query = { kind: input.kind, id: input.id, name: input.name };
    yield* followNdjson<NimbusEvent>(this.#t, { method: "GET", path, query, signal: input.signal });
  }
}
