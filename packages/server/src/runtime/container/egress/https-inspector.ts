// runtime/container/egress/https-inspector.ts — HTTPS the egress proxy looks inside:
// only for a connection whose rule has methods or path prefixes, or whose host has
// a secret bound to it. The proxy hands over the accepted socket with the bytes it
// already peeked (the ClientHello); TLS is terminated with a leaf certificate of
// the per-server CA for the SNI (the sandbox trusts that CA), each HTTP/1.1 request
// is checked (`allowRequest`) and its headers rewritten (`rewriteHeaders`, where
// secrets go in), then sent to the original destination over a new TLS connection
// that verifies the upstream's certificate for the same name against the host's
// trust store. Node's own HTTP parser and TLS do the protocol work.
// A request refused here gets 403 with a plain-text reason; an upstream that
// cannot be reached or verified gets 502; neither reaches the other side.
// `inspectHttp` does the same for plain HTTP (an http rule with methods or path
// prefixes): no TLS on either side, and never any header rewriting (secrets go
// over TLS only), every request on the connection checked, not just the first.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";

export interface InspectedRequest {
  method: string;
  path: string;
  host: string;
}

export interface InspectOptions {
  /** The name the client asked for (SNI); the leaf and the upstream check use it. */
  serverName: string;
  /** The original destination. */
  upstream: { address: string; port: number };
  /** The leaf certificate for `serverName` (EgressCa.leafFor). */
  leaf: { keyPem: string; certPem: string };
  /** undefined to allow, else the reason for a 403. */
  allowRequest(req: InspectedRequest): string | undefined;
  /** The headers to send upstream (where secrets are put in). */
  rewriteHeaders?(headers: Array<[string, string]>, req: InspectedRequest): Array<[string, string]>;
  /** Extra CAs the upstream may chain to (tests; an operator's private CA). @default the host's trust store only */
  upstreamCa?: string[];
  /** OpenSSL cipher string for the sandbox-facing TLS (e.g. `DEFAULT:@SECLEVEL=0` for clients that sign with SHA-1). @default Node's */
  clientCiphers?: string;
  /** Called once per request with what happened, for the decision log. */
  onRequest?(req: InspectedRequest, outcome: { status: number; allowed: boolean; reason?: string; bytesUp: number; bytesDown: number }): void;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);
const REQUEST_TIMEOUT_MS = 60_000;

/** Serves one inspected client connection until it closes. */
export function inspectHttps(client: Socket, peeked: Buffer, options: InspectOptions): void {
  if (peeked.length > 0) client.unshift(peeked);
  const tls = new TLSSocket(client, {
    isServer: true,
    secureContext: createSecureContext({
      key: options.leaf.keyPem,
      cert: options.leaf.certPem,
      ...(options.clientCiphers ? { ciphers: options.clientCiphers } : {}),
    }),
  });
  tls.on("error", () => tls.destroy());
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => forward(req, res, options));
  server.on("clientError", (_err, s) => s.destroy());
  server.emit("connection", tls);
}

/** Serves one plain-HTTP client connection, checking each request, until it closes. `serverName` is the Host the proxy read. */
export function inspectHttp(client: Socket, peeked: Buffer, options: Omit<InspectOptions, "leaf" | "clientCiphers" | "rewriteHeaders" | "upstreamCa">): void {
  if (peeked.length > 0) client.unshift(peeked);
  client.on("error", () => client.destroy());
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => forward(req, res, options, false));
  server.on("clientError", (_err, s) => s.destroy());
  // A client that shuts its sending side after the request (`printf … | nc`) still gets the answer:
  // without this, Node's HTTP server aborts the request at the client's FIN.
  Object.assign(server, { httpAllowHalfOpen: true });
  server.emit("connection", client);
  client.resume(); // the proxy paused it after peeking; the HTTP server does not resume a paused socket
}

function forward(req: IncomingMessage, res: ServerResponse, options: Omit<InspectOptions, "leaf">, tls = true): void {
  const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const info: InspectedRequest = { method: req.method ?? "GET", path: req.url ?? "/", host };
  const refuse = (status: number, reason: string) => {
    options.onRequest?.(info, { status, allowed: false, reason, bytesUp: 0, bytesDown: 0 });
    req.resume();
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(`nimbus egress: ${reason}\n`);
  };
  // Domain fronting: the Host must name what the SNI named (or, for plain HTTP, the connection's first Host).
  if (host !== options.serverName.toLowerCase())
    return refuse(
      403,
      `the Host header (${host || "none"}) differs from the ${tls ? "TLS server name" : "Host this connection was allowed for"} (${options.serverName})`,
    );
  const why = options.allowRequest(info);
  if (why) return refuse(403, why);
  let headers: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, req.rawHeaders[i + 1]!]);
  }
  if (options.rewriteHeaders) headers = options.rewriteHeaders(headers, info);
  let bytesUp = 0;
  let bytesDown = 0;
  const common = {
    host: options.upstream.address,
    port: options.upstream.port,
    method: info.method,
    path: info.path,
    headers: headers.flat(),
    timeout: REQUEST_TIMEOUT_MS,
    agent: false,
  };
  const upstream = tls
    ? httpsRequest({ ...common, servername: options.serverName, ...(options.upstreamCa ? { ca: options.upstreamCa } : {}) })
    : httpRequest(common);
  upstream.on("response", (up) => {
    const out: string[] = [];
    for (let i = 0; i < up.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(up.rawHeaders[i]!.toLowerCase())) out.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!);
    res.writeHead(up.statusCode ?? 502, out);
    up.on("data", (c: Buffer) => (bytesDown += c.length));
    up.pipe(res);
    up.on("end", () => options.onRequest?.(info, { status: up.statusCode ?? 502, allowed: true, bytesUp, bytesDown }));
  });
  upstream.on("timeout", () => upstream.destroy(new Error("the upstream did not answer in time")));
  upstream.on("error", (err) => {
    if (res.headersSent) return void res.destroy();
    refuse(502, `the upstream ${options.serverName} could not be reached or verified (${(err as NodeJS.ErrnoException).code ?? err.message})`);
  });
  req.on("data", (c: Buffer) => (bytesUp += c.length));
  req.pipe(upstream);
}
