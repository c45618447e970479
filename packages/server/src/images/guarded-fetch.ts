/**
 * A `fetch` for the registry client that dials only what the destination
 * policy allows. Global fetch (undici) offers no hook on the address it
 * connects to, so this one is built on node:http/https with the policy's
 * `lookup`: the address checked is the address connected to. It answers a
 * standard `Response` (manual redirects only; no content decoding, which
 * registries do not use and which would be one more expansion to bound).
 */
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { DestinationPolicy } from "./destinations.js";

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
const NULL_BODY = new Set([101, 204, 205, 304]);

export function guardedFetch(policy: DestinationPolicy): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    policy.checkUrl(url);
    const secure = url.protocol === "https:";
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        {
          method: init.method ?? "GET",
          headers,
          agent: secure ? agents.https : agents.http,
          lookup: policy.lookupFor(url.host) as never,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const out = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          const status = res.statusCode ?? 502;
          const body = NULL_BODY.has(status) || init.method === "HEAD" ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          if (body === null) res.resume();
          resolve(new Response(body, { status, statusText: res.statusMessage ?? "", headers: out }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  }) as typeof fetch;
}
