/**
 * Test support: a real `node:http` server on 127.0.0.1, port 0, that plays
 * the Nimbus server's part. Each test routes requests with its own handler
 * and inspects what the SDK sent. Not exported from the package.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Nimbus } from "../client.js";

/**
 * A request as the server saw it. `rawPath` keeps percent-encoding.
 *
 * @example
 * assert.equal(server.requests[0]?.rawPath, "/api/tenants/demo/sandboxes/a%2Fb");
 */
export interface SeenRequest {
  method: string;
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  json: unknown;
}

/**
 * Answers one request.
 *
 * @example
 * const handler: Handler = (req, res) => sendJson(res, 200, { ok: true });
 */
export type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

/**
 * A running fake server.
 *
 * @example
 * const srv = await startServer(handler); try { ... } finally { await srv.close(); }
 */
export interface FakeServer {
  url: string;
  requests: SeenRequest[];
  /** Each request seen as `METHOD rawPath`, in order: what a test compares the SDK's calls with. */
  requestLines(): string[];
  close(): Promise<void>;
}

/**
 * Starts a fake server on 127.0.0.1 with an ephemeral port.
 *
 * @example
 * const srv = await startServer((req, res) => sendJson(res, 200, { tenants: [] }));
 */
export async function startServer(handler: Handler): Promise<FakeServer> {
  const requests: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://x");
    let json: unknown;
    try {
      json = body.length ? JSON.parse(body.toString("utf8")) : undefined;
    } catch {
      json = undefined;
    }
    const seen: SeenRequest = { method: req.method ?? "", rawPath: url.pathname, query: url.searchParams, headers: req.headers, body, json };
    requests.push(seen);
    try {
      await handler(seen, res);
    } catch (err) {
      if (!res.headersSent) sendError(res, 500, "service.internal", String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestLines: () => requests.map((r) => `${r.method} ${r.rawPath}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends a JSON answer with an `x-request-id` header.
 *
 * @example
 * sendJson(res, 201, { id: "demo" });
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_header" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

/**
 * Sends the contract's error envelope.
 *
 * @example
 * sendError(res, 404, "op.not_found", "sandbox `x` was not found", "req_42");
 */
export function sendError(res: ServerResponse, status: number, code: string, message: string, requestId = "req_body"): void {
  sendJson(res, status, { error: { code, message, requestId, retryable: status >= 500, detail: { hint: "x" } } });
}

/**
 * Starts an NDJSON answer; write lines with {@link writeLine}.
 *
 * @example
 * startNdjson(res); writeLine(res, { type: "heartbeat" });
 */
export function startNdjson(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/x-ndjson", "x-request-id": "req_stream" });
  res.flushHeaders();
}

/**
 * Writes one NDJSON line.
 *
 * @example
 * writeLine(res, { kind: "exit", code: 0 });
 */
export function writeLine(res: ServerResponse, value: unknown): void {
  res.write(`${JSON.stringify(value)}\n`);
}

/**
 * Answers with a whole NDJSON stream, one line per value, and ends it.
 *
 * @example
 * sendNdjson(res, [{ type: "heartbeat" }, { kind: "exit", code: 0 }]);
 */
export function sendNdjson(res: ServerResponse, values: unknown[]): void {
  startNdjson(res);
  for (const v of values) writeLine(res, v);
  res.end();
}

/**
 * Resolves once `predicate` holds, polling every few milliseconds.
 *
 * @example
 * await until(() => srv.requests.length === 2);
 */
export async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Runs `body` with a client (token `t`, tenant `demo`) pointed at a fresh
 * fake server, and closes the server afterwards.
 *
 * @example
 * await withClient(handler, async (nimbus, srv) => { await nimbus.tenants.list(); });
 */
export async function withClient(handler: Handler, body: (nimbus: Nimbus, srv: FakeServer) => Promise<void>): Promise<void> {
  const srv = await startServer(handler);
  try {
    await body(new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" }), srv);
  } finally {
    await srv.close();
  }
}
