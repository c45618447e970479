/**
 * Waiting for a resource to reach a state without polling or racing: open
 * the tenant event stream first, then read the current state, then follow
 * events. Used by `sandboxes.wait` and `services.wait`.
 */
import { NimbusConflictError, NimbusError } from "./errors.js";
import { readNdjson } from "./ndjson.js";
import { apiPath, type CallOptions, type QueryValue, type Transport } from "./transport.js";

/**
 * Default wait timeout in milliseconds.
 *
 * @default 120000
 * @example
 * const timeoutMs = input.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
 */
export const DEFAULT_WAIT_TIMEOUT_MS = 120_000;

/**
 * A raw line of the event stream, before it is matched to a resource.
 *
 * @example
 * const line: RawEventLine = { type: "sandbox", action: "updated", resource: {} };
 */
export interface RawEventLine {
  type: string;
  action?: string;
  resource?: unknown;
}

/**
 * What the caller asks of a wait: the state, and the usual call options.
 *
 * @example
 * const input: WaitInput = { until: "ready", timeoutMs: 30_000 };
 */
export interface WaitInput extends CallOptions {
  until: string;
  /** @default 120000 */
  timeoutMs?: number;
}

/**
 * What a wait needs to know about one kind of resource.
 *
 * @example
 * const plan: WaitPlan<Sandbox> = { eventType: "sandbox", filter: { kind: "sandbox", id }, matches: (s) => s.metadata.id === id, ... };
 */
export interface WaitPlan<R> {
  /** The `type` of the event lines about this kind of resource. */
  eventType: string;
  /** Event stream filter, e.g. `{kind: "sandbox", id}`. */
  filter: Record<string, QueryValue>;
  /** How the resource is named in messages, e.g. "sandbox `x`". */
  label: string;
  fetchCurrent(signal: AbortSignal): Promise<R>;
  /** Whether an event's resource is the one waited for (the filter is a hint a server may widen). */
  matches(resource: R): boolean;
  state(resource: R): string;
  /** Whether `resource` sits in a terminal state other than `until`. */
  isTerminal(resource: R): boolean;
  failDetail(resource: R | undefined): Record<string, unknown>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Resolves with the resource once `plan.state(resource) === input.until`;
 * throws `op.conflict` on another terminal state or deletion, `client.timeout`
 * after `input.timeoutMs`. The event stream is always closed on return.
 *
 * @example
 * const sandbox = await waitFor(transport, { until: "ready" }, plan);
 */
export async function waitFor<R>(t: Transport, input: WaitInput, plan: WaitPlan<R>): Promise<R> {
  const tenantId = t.resolveTenantId(input.tenantId);
  const { until, signal } = input;
  const timeoutMs = input.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const pick = (line: RawEventLine): R | undefined => {
    const resource = line.type === plan.eventType ? (line.resource as R | undefined) : undefined;
    return resource !== undefined && plan.matches(resource) ? resource : undefined;
  };
  const ac = new AbortController();
  let timedOut = false;
  let last: R | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  const onCallerAbort = () => ac.abort(signal?.reason);
  if (signal?.aborted) onCallerAbort();
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  const settle = (resource: R): boolean => {
    last = resource;
    if (plan.state(resource) === until) return true;
    if (plan.isTerminal(resource)) {
      throw new NimbusConflictError({
        code: "op.conflict",
        message: `${plan.label} ended \`${plan.state(resource)}\` while waiting for \`${until}\``,
        detail: plan.failDetail(resource),
      });
    }
    return false;
  };
  try {
    for (;;) {
      // Subscribe before reading the state, so no transition falls between.
      const stream = await t.send({
        method: "GET",
        path: apiPath`/api/tenants/${tenantId}/events`,
        query: plan.filter,
        accept: "application/x-ndjson",
        signal: ac.signal,
      });
      try {
        if (settle(await plan.fetchCurrent(ac.signal))) return last as R;
        for await (const line of readNdjson<RawEventLine>(stream)) {
          if (line.type === "heartbeat") continue;
          const resource = pick(line);
          if (resource === undefined) continue;
          if (line.action === "deleted") {
            throw new NimbusConflictError({
              code: "op.conflict",
              message: `${plan.label} was deleted while waiting for \`${until}\``,
              detail: { ...plan.failDetail(resource), lifecycleState: "deleted" },
            });
          }
          if (settle(resource)) return resource;
        }
      } finally {
        await stream.body?.cancel().catch(() => {});
      }
      // The server closed the stream; reopen it after a short pause.
      await sleep(250, ac.signal);
      if (ac.signal.aborted) throw ac.signal.reason;
    }
  } catch (err) {
    if (timedOut) {
      const state = last === undefined ? "unknown" : plan.state(last);
      throw new NimbusError({
        code: "client.timeout",
        message: `${plan.label} did not reach \`${until}\` within ${timeoutMs} ms (last state: ${state}); pass a larger timeoutMs`,
        detail: plan.failDetail(last),
        retryable: true,
      });
    }
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onCallerAbort);
    ac.abort();
  }
}
