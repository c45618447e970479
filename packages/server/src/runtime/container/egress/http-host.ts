// runtime/container/egress/http-host.ts — the Host header of an HTTP/1.x request
// head, read from the first bytes a client sends. Only the head is looked at;
// the body and later requests on the connection pass through untouched.

import type { PeekResult } from "./client-hello.js";

const METHOD = /^[A-Z]{1,16} /;

/** True when the bytes so far could be an HTTP/1.x request line. */
export function looksLikeHttp(buf: Buffer): boolean {
  const head = buf.subarray(0, 17).toString("latin1");
  return METHOD.test(head) || (/^[A-Z]{1,16}$/.test(head) && head.length < 17);
}

/** The lower-cased host (port stripped) once the whole head is there. */
export function parseHttpHost(buf: Buffer): PeekResult {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return { state: "need-more" };
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
  if (!/^[A-Z]{1,16} \S+ HTTP\/1\.[01]$/.test(lines[0] ?? "")) return { state: "invalid" };
  const hosts = lines.slice(1).filter((l) => /^host:/i.test(l));
  // Two Host headers is a classic smuggling trick: refuse to guess which one counts.
  if (hosts.length > 1) return { state: "invalid" };
  if (hosts.length === 0) return { state: "done" };
  const value = hosts[0]!.slice(5).trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]{1,253})(?::\d{1,5})?$/.exec(value);
  return m ? { state: "done", value: m[1]!.replace(/^\[|\]$/g, "") } : { state: "invalid" };
}
