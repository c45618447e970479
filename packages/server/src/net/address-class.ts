/**
 * net/ — address classification shared by every part of the server that
 * dials an address a tenant (or a tenant's image) chose: the registry client
 * today, the egress proxy next. No dependencies beyond node:net, so any
 * module (images, runtime, domain) may import it.
 *
 * `classifyAddress` names the class of one IP address; only `public` may be
 * dialled without the operator's say-so. IPv4-mapped and IPv4-compatible
 * IPv6 forms are classified as the IPv4 address they carry, so `::ffff:127.0.0.1`
 * is loopback.
 */
import { isIP } from "node:net";

export type AddressClass =
  | "public"
  | "loopback" // 127/8, ::1
  | "unspecified" // 0.0.0.0/8, ::
  | "link_local" // 169.254/16, fe80::/10
  | "metadata" // 169.254.169.254, fd00:ec2::254 (cloud instance metadata)
  | "private" // 10/8, 172.16/12, 192.168/16
  | "shared" // 100.64/10 (carrier-grade NAT)
  | "unique_local" // fc00::/7
  | "multicast" // 224/4, ff00::/8
  | "reserved" // 240/4 and 255.255.255.255, 192.0.0/24, 198.18/15, TEST-NETs, 2001:db8::/32, 64:ff9b:1::/48, 100::/64
  | "invalid"; // not an IP address

function v4Octets(ip: string): number[] {
  return ip.split(".").map(Number);
}

function classifyV4(ip: string): AddressClass {
  const [a, b, c, d] = v4Octets(ip) as [number, number, number, number];
  if (a === 169 && b === 254 && c === 169 && d === 254) return "metadata";
  if (a === 127) return "loopback";
  if (a === 0) return "unspecified";
  if (a === 169 && b === 254) return "link_local";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "shared";
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240) return "reserved";
  if (
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113)
  )
    return "reserved";
  return "public";
}

/** Expands an IPv6 address to its eight 16-bit groups (handles `::` and a trailing dotted IPv4). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const [a, b, c, d] = v4Octets(text.slice(lastColon + 1)) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith("::") ? prefix : prefix.slice(0, -1);
  }
  const [head, rest] = text.includes("::") ? (text.split("::") as [string, string]) : [text, undefined];
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  const fill = 8 - tail.length - h.length - r.length;
  return [...h, ...(rest === undefined ? [] : new Array(Math.max(0, fill)).fill(0)), ...r, ...tail].slice(0, 8);
}

function classifyV6(ip: string): AddressClass {
  const g = v6Groups(ip);
  if (g.length !== 8) return "invalid";
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  const v4 = () => `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::a.b.c.d (NAT64): the IPv4 address decides.
  if (zeros(5) && g[5] === 0xffff) return classifyV4(v4());
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(v4());
  if (zeros(7) && g[7] === 1) return "loopback";
  if (zeros(8)) return "unspecified";
  if (zeros(6) && g[6] !== 0) return classifyV4(v4());
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return "metadata";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link_local";
  if ((g[0]! & 0xfe00) === 0xfc00) return "unique_local";
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "reserved";
  if (g[0] === 0x0064 && g[1] === 0xff9b && g[2] === 1) return "reserved";
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return "reserved";
  // fec0::/10 (deprecated site-local) is private in practice.
  if ((g[0]! & 0xffc0) === 0xfec0) return "unique_local";
  return "public";
}

/** The class of an IP address (brackets around IPv6 are accepted). */
export function classifyAddress(address: string): AddressClass {
  const ip = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = isIP(ip.split("%")[0]!);
  if (family === 4) return classifyV4(ip);
  if (family === 6) return classifyV6(ip);
  return "invalid";
}

/** True when the address may be dialled without an operator's allowance. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === "public";
}
