/**
 * `nimbus.sessions`: TTL leases on a ready target (contract §5) and channel
 * attach (ext). Sessions live under `/api/sessions`; the tenant always
 * travels with the request (query for reads and close, body for open/renew).
 */
import { attachChannel, type Attachment } from "./channel.js";
import { paginate } from "./paging.js";
import { apiPath, type CallOptions, type Transport } from "./transport.js";
import type { Collection, PageOptions } from "./types/common.js";
import type { Session, SessionChannel, SessionState, SessionTarget } from "./types/session.js";

/**
 * Input of {@link SessionsApi.open}.
 *
 * @example
 * const input: OpenSessionInput = { target: { sandbox: { id } }, channels: ["stdio"], requestedTtlMs: 300_000 };
 */
export interface OpenSessionInput extends CallOptions {
  target: SessionTarget;
  /** 1–8 unique channels valid for the target. */
  channels: SessionChannel[];
  /** Lease length; the server clamps it to one hour. @default 900000 */
  requestedTtlMs?: number;
}

/**
 * Addresses one session.
 *
 * @example
 * const ref: SessionRef = { id: session.metadata.id };
 */
export interface SessionRef extends CallOptions {
  id: string;
}

/**
 * Filters and paging of {@link SessionsApi.list}.
 *
 * @example
 * await nimbus.sessions.list({ state: "open" });
 */
export interface ListSessionsInput extends CallOptions, PageOptions {
  /** Only sessions in this lifecycle state (sent as `state=`, upstream's name). */
  state?: SessionState;
  /** @deprecated the older name of {@link ListSessionsInput.state}; still accepted. */
  status?: SessionState;
}

/**
 * Options of {@link SessionsApi.attach}.
 *
 * @example
 * const a = await nimbus.sessions.attach({ id, channel: "stdio", cursor: lastCursor });
 */
export interface AttachInput extends SessionRef {
  /** @default "stdio" */
  channel?: SessionChannel;
  /** Byte offset to replay output from (an earlier `attachment.cursor`). */
  cursor?: number;
}

/**
 * Session leases of a tenant.
 *
 * @example
 * const s = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["stdio"] });
 * await nimbus.sessions.close({ id: s.metadata.id, reason: "done" });
 */
export class SessionsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Opens a lease on a ready sandbox or service.
   *
   * @example
   * const s = await nimbus.sessions.open({ target: { service: { name: "worker" } }, channels: ["stdio"] });
   */
  async open(input: OpenSessionInput): Promise<Session> {
    const tenantId = this.#t.resolveTenantId(input.tenantId);
    const { target, channels, requestedTtlMs } = input;
    return this.#t.request({
      method: "POST",
      path: "/api/sessions",
      json: { tenantId, target, channels, requestedTtlMs },
      signal: input.signal,
    });
  }

  /**
   * Reads one session.
   *
   * @example
   * const s = await nimbus.sessions.get({ id });
   */
  async get(ref: SessionRef): Promise<Session> {
    const tenantId = this.#t.resolveTenantId(ref.tenantId);
    return this.#t.request({ method: "GET", path: apiPath`/api/sessions/${ref.id}`, query: { tenantId }, signal: ref.signal });
  }

  /**
   * Lists one page of sessions.
   *
   * @example
   * const { items } = await nimbus.sessions.list({ limit: 50 });
   */
  async list(input: ListSessionsInput = {}): Promise<Collection<Session>> {
    const tenantId = this.#t.resolveTenantId(input.tenantId);
    const { limit, pageToken } = input;
    const state = input.state ?? input.status;
    return this.#t.request({ method: "GET", path: "/api/sessions", query: { tenantId, limit, pageToken, state }, signal: input.signal });
  }

  /**
   * Iterates over every session, fetching pages as needed.
   *
   * @example
   * for await (const s of nimbus.sessions.listAll({ state: "open" })) console.log(s.metadata.id);
   */
  listAll(input: ListSessionsInput = {}): AsyncGenerator<Session, void, undefined> {
    return paginate((pageToken) => this.list({ ...input, pageToken }), input.pageToken);
  }

  /**
   * Closes a lease; closing a closed or expired session returns it unchanged.
   * The target keeps running.
   *
   * @example
   * await nimbus.sessions.close({ id, reason: "done" });
   */
  async close(input: SessionRef & { reason?: string }): Promise<Session> {
    const tenantId = this.#t.resolveTenantId(input.tenantId);
    return this.#t.request({
      method: "POST",
      path: apiPath`/api/sessions/${input.id}/close`,
      query: { tenantId },
      json: input.reason === undefined ? {} : { reason: input.reason },
      signal: input.signal,
    });
  }

  /**
   * Extends a lease (ext); never past one hour from now.
   *
   * @example
   * await nimbus.sessions.renew({ id, requestedTtlMs: 600_000 });
   */
  async renew(input: SessionRef & { requestedTtlMs: number }): Promise<Session> {
    const tenantId = this.#t.resolveTenantId(input.tenantId);
    return this.#t.request({
      method: "POST",
      path: apiPath`/api/sessions/${input.id}/renew`,
      json: { tenantId, requestedTtlMs: input.requestedTtlMs },
      signal: input.signal,
    });
  }

  /**
   * Attaches to a session channel (ext) and returns its byte streams: a
   * writable `stdin`, readable `stdout`/`stderr`, and an `exit` promise.
   * Resolves once the server has accepted the attach.
   *
   * @example
   * const a = await nimbus.sessions.attach({ id, channel: "stdio" });
   * a.stdout.pipe(process.stdout);
   * a.stdin.end("hello\n");
   * console.log((await a.exit).code);
   */
  async attach(input: AttachInput): Promise<Attachment> {
    const tenantId = this.#t.resolveTenantId(input.tenantId);
    return attachChannel(this.#t, { tenantId, id: input.id, channel: input.channel ?? "stdio", cursor: input.cursor, signal: input.signal });
  }
}
