/**
 * Egress policy (issue 17): which destinations a sandbox's rules allow. Pure
 * rules, no I/O: the DNS responder asks `allowsName`, the egress proxy asks
 * `decide` per connection with what it saw (the name the sandbox resolved,
 * the SNI or Host, the original destination). Addresses of the always-refused
 * classes (loopback, link-local and metadata, private and shared ranges, …)
 * are refused by the caller's address classifier before any rule is looked
 * at; these rules only ever narrow what is allowed.
 *
 * A rule's `host` is one of:
 * - an exact DNS name (`api.example.com`), matched case-insensitively, without
 *   a trailing dot;
 * - `*.suffix`: one or more labels before the suffix, never the bare suffix
 *   (`*.example.test` matches `a.example.test` and `a.b.example.test`, not
 *   `example.test`);
 * - a literal IPv4/IPv6 address or CIDR, allowed only where the tenant's
 *   ceiling allows addresses.
 * `port` defaults to 443 for https and 80 for http and is required for tcp;
 * ports are exact. `methods` and `pathPrefixes` apply to http, and to https
 * only through inspection.
 */
import { BlockList, isIP } from "node:net";
import { invalidInput } from "./errors.js";

export type EgressProtocol = "tcp" | "http" | "https";

export interface EgressRule {
  host: string;
  port?: number;
  protocol: EgressProtocol;
  methods?: string[];
  pathPrefixes?: string[];
}

/** A rule checked and normalised: the kind of host pattern known, the port filled in. */
export interface CompiledRule {
  index: number;
  rule: EgressRule;
  port: number;
  match: { kind: "name"; name: string } | { kind: "suffix"; suffix: string } | { kind: "address"; list: BlockList; text: string };
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const DEFAULT_PORTS: Record<EgressProtocol, number | undefined> = { https: 443, http: 80, tcp: undefined };
const METHOD = /^[A-Z]{1,16}$/;

/** `Foo.Example.COM.` → `foo.example.com`; undefined when it is not a DNS name. */
export function normaliseName(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (n.length === 0 || n.length > 253) return undefined;
  return n.split(".").every((l) => LABEL.test(l)) ? n : undefined;
}

function parseAddress(host: string): BlockList | undefined {
  const [addr = "", bits, extra] = host.split("/");
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return undefined;
  const type = family === 4 ? "ipv4" : "ipv6";
  const list = new BlockList();
  if (bits === undefined) {
    list.addAddress(addr, type);
    return list;
  }
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return undefined;
  list.addSubnet(addr, prefix, type);
  return list;
}

/**
 * Checks and normalises rules at the edge; every problem is a 400 naming the
 * rule (`spec.network.egress[i]`). `allowAddresses` is the tenant ceiling's
 * say on literal IPs and CIDRs.
 */
export function compileRules(rules: EgressRule[], options: { allowAddresses: boolean; field?: string }): CompiledRule[] {
  const field = options.field ?? "spec.network.egress";
  return rules.map((rule, index) => {
    const at = `${field}[${index}]`;
    const fail = (why: string) => invalidInput(`${at}: ${why}`, { field: at, rule });
    const port = rule.port ?? DEFAULT_PORTS[rule.protocol];
    if (port === undefined) throw fail("a tcp rule needs a port");
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail("port must be an integer from 1 to 65535");
    if ((rule.methods || rule.pathPrefixes) && rule.protocol === "tcp") throw fail("methods and pathPrefixes apply to http and https rules only");
    for (const m of rule.methods ?? []) if (!METHOD.test(m)) throw fail(`\`${m}\` is not an HTTP method (upper case, e.g. GET)`);
    for (const p of rule.pathPrefixes ?? [])
      if (!p.startsWith("/") || /[\s#?]/.test(p)) throw fail(`path prefix \`${p}\` must start with / and hold no spaces, ? or #`);
    const host = rule.host.trim();
    const list = parseAddress(host);
    if (list) {
      if (!options.allowAddresses) throw fail(`\`${host}\` is an address; this tenant's egress ceiling allows host names only`);
      return { index, rule, port, match: { kind: "address", list, text: host } };
    }
    if (host.startsWith("*.")) {
      const suffix = normaliseName(host.slice(2));
      if (!suffix || !suffix.includes(".")) throw fail(`\`${host}\`: a wildcard needs a suffix of at least two labels, e.g. *.example.com`);
      return { index, rule, port, match: { kind: "suffix", suffix } };
    }
    const name = normaliseName(host);
    if (!name) throw fail(`\`${host}\` is neither a DNS name, a *.suffix wildcard nor an IP address or CIDR`);
    return { index, rule, port, match: { kind: "name", name } };
  });
}

function nameMatches(rule: CompiledRule, name: string): boolean {
  if (rule.match.kind === "name") return rule.match.name === name;
  if (rule.match.kind === "suffix") return name.endsWith(`.${rule.match.suffix}`);
  return false;
}

/** Whether `name` matches a host pattern (an exact name or `*.suffix`), both normalised or not. */
export function nameMatchesPattern(pattern: string, name: string): boolean {
  const n = normaliseName(name);
  if (!n) return false;
  if (pattern.startsWith("*.")) {
    const suffix = normaliseName(pattern.slice(2));
    return !!suffix && n.endsWith(`.${suffix}`);
  }
  return normaliseName(pattern) === n;
}

/** Whether any rule names `name` (the DNS responder answers NXDOMAIN otherwise). */
export function allowsName(rules: CompiledRule[], name: string): boolean {
  const n = normaliseName(name);
  return n !== undefined && rules.some((r) => nameMatches(r, n));
}

/** What the proxy saw of one connection. */
export interface ConnectionFacts {
  /** The address and port the sandbox dialled (the original destination). */
  address: string;
  port: number;
  /** The names this sandbox resolved to `address` through the responder. */
  resolvedNames: string[];
  /** TLS SNI, when the connection opened with a ClientHello. */
  sni?: string;
  /** HTTP Host (without port), when it opened with an HTTP/1 request. */
  host?: string;
}

export type Decision = { allowed: true; rule: CompiledRule; name?: string } | { allowed: false; reason: string };

/**
 * One connection: allowed only when one rule agrees with everything seen.
 * - The port must be the rule's port.
 * - Name rules: the name the client claims (SNI, else Host) must match the
 *   rule, and the dialled address must be one that name resolved to for
 *   this sandbox (an allowed SNI on some other address is fronting). SNI and
 *   Host both present but different is fronting too. A plain tcp rule with
 *   no claimed name needs an address an allowed name resolved to.
 * - Address rules: the dialled address must be in the rule's list.
 */
export function decide(rules: CompiledRule[], facts: ConnectionFacts): Decision {
  const sni = facts.sni === undefined ? undefined : normaliseName(facts.sni);
  const host = facts.host === undefined ? undefined : normaliseName(facts.host);
  if (sni && host && sni !== host) return { allowed: false, reason: "fronting: the TLS server name and the HTTP Host differ" };
  const claimed = sni ?? host;
  const resolved = facts.resolvedNames.map((n) => normaliseName(n)).filter((n): n is string => n !== undefined);
  let portMatched = false;
  for (const rule of rules) {
    if (rule.port !== facts.port) continue;
    portMatched = true;
    if (rule.match.kind === "address") {
      const type = isIP(facts.address) === 6 ? "ipv6" : "ipv4";
      if (rule.match.list.check(facts.address, type)) return { allowed: true, rule };
      continue;
    }
    if (claimed !== undefined) {
      if (nameMatches(rule, claimed) && resolved.includes(claimed)) return { allowed: true, rule, name: claimed };
      continue;
    }
    const name = resolved.find((n) => nameMatches(rule, n));
    if (name && rule.rule.protocol === "tcp") return { allowed: true, rule, name };
  }
  if (!portMatched) return { allowed: false, reason: `no rule allows port ${facts.port}` };
  if (claimed !== undefined && !resolved.includes(claimed))
    return { allowed: false, reason: `${claimed} was not resolved to ${facts.address} for this sandbox` };
  return { allowed: false, reason: "no rule allows this destination" };
}
