// runtime/container/egress/client-hello.ts — the server name (SNI) of a TLS
// ClientHello, read from the first bytes a client sends, without terminating TLS.
// Hand-written because Node offers no way to read a ClientHello it does not
// answer, and the small npm SNI readers are single-purpose packages with little
// upkeep, not worth a dependency for ~80 lines; it is kept small, bounds-checked
// at every read, and fuzzed with truncated and random input.

export type PeekResult = { state: "need-more" } | { state: "invalid" } | { state: "done"; value?: string };

/** True when the bytes so far could only be TLS (a handshake record). */
export function looksLikeTls(buf: Buffer): boolean {
  return buf.length > 0 && buf[0] === 0x16 && (buf.length < 2 || buf[1] === 0x03);
}

/**
 * Parses a ClientHello from `buf` (one or more handshake records from the
 * start of the stream). `done` with `value` undefined: a ClientHello without
 * SNI. `need-more` until the whole ClientHello message is there.
 */
export function parseClientHelloSni(buf: Buffer): PeekResult {
  // Reassemble the handshake message from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let want = -1;
  let off = 0;
  while (want < 0 || have < want) {
    if (buf.length < off + 5) return { state: "need-more" };
    if (buf[off] !== 0x16 || buf[off + 1] !== 0x03) return { state: "invalid" };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16_384 + 256) return { state: "invalid" };
    const end = Math.min(buf.length, off + 5 + len);
    parts.push(buf.subarray(off + 5, end));
    have += end - off - 5;
    if (want < 0 && have >= 4) {
      const head = Buffer.concat(parts);
      if (head[0] !== 0x01) return { state: "invalid" };
      want = 4 + head.readUIntBE(1, 3);
    }
    if (end < off + 5 + len) {
      if (want >= 0 && have >= want) break;
      return { state: "need-more" };
    }
    off = end;
  }
  return sniFromHello(Buffer.concat(parts).subarray(4, want));
}

function sniFromHello(h: Buffer): PeekResult {
  let p = 2 + 32; // client_version, random
  if (h.length < p + 1) return { state: "invalid" };
  p += 1 + h[p]!; // session_id
  if (h.length < p + 2) return { state: "invalid" };
  p += 2 + h.readUInt16BE(p); // cipher_suites
  if (h.length < p + 1) return { state: "invalid" };
  p += 1 + h[p]!; // compression_methods
  if (h.length === p) return { state: "done" }; // no extensions
  if (h.length < p + 2) return { state: "invalid" };
  const extEnd = p + 2 + h.readUInt16BE(p);
  if (extEnd > h.length) return { state: "invalid" };
  p += 2;
  while (p + 4 <= extEnd) {
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return { state: "invalid" };
    if (type === 0) return serverName(h.subarray(p, p + len));
    p += len;
  }
  return p === extEnd ? { state: "done" } : { state: "invalid" };
}

function serverName(e: Buffer): PeekResult {
  if (e.length < 2 || 2 + e.readUInt16BE(0) !== e.length) return { state: "invalid" };
  let p = 2;
  while (p + 3 <= e.length) {
    const kind = e[p]!;
    const len = e.readUInt16BE(p + 1);
    p += 3;
    if (p + len > e.length) return { state: "invalid" };
    if (kind === 0) {
      const name = e.subarray(p, p + len).toString("latin1");
      // A host name is LDH labels and dots; anything else is not a name we could match.
      return /^[A-Za-z0-9.-]{1,253}$/.test(name) ? { state: "done", value: name.toLowerCase() } : { state: "invalid" };
    }
    p += len;
  }
  return { state: "done" };
}
