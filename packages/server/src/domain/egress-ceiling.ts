/**
 * A tenant's egress ceiling (issue 17): what its sandboxes may ever ask for.
 * The operator sets it; a sandbox rule outside it is a 400 naming the rule.
 *
 * - `hosts`: `*` (any host name), exact names, `*.suffix` patterns, and (only
 *   with `allowAddresses`) IP addresses or CIDRs.
 * - `ports`: numbers or `from-to` ranges.
 * - `allowAddresses`: whether rules may name literal addresses at all.
 *
 * Without one set, a tenant gets `DEFAULT_CEILING`: any host name on the web
 * ports, no literal addresses.
 */
import { BlockList, isIP } from "node:net";
import { invalidInput } from "./errors.js";
import { compileRules, nameMatchesPattern, normaliseName, type CompiledRule, type EgressRule } from "./egress-policy.js";

export interface EgressCeiling {
  hosts: string[];
  ports: Array<number | string>;
  allowAddresses: boolean;
}

export const DEFAULT_CEILING: EgressCeiling = { hosts: ["*"], ports: [80, 443], allowAddresses: false };

const RANGE = /^(\d{1,5})-(\d{1,5})$/;

function portRanges(ports: Array<number | string>, field: string): Array<[number, number]> {
  return ports.map((p, i) => {
    const m = typeof p === "string" ? RANGE.exec(p) : null;
    const [from, to] = typeof p === "number" ? [p, p] : m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > 65535 || from > to) {
      throw invalidInput(`${field}[${i}]: \`${p}\` is not a port (1-65535) or a from-to range`, { field: `${field}[${i}]` });
    }
    return [from, to];
  });
}

function cidrList(host: string): BlockList | undefined {
  const [addr = "", bits] = host.split("/");
  const family = isIP(addr);
  if (!family) return undefined;
  const list = new BlockList();
  const type = family === 4 ? "ipv4" : "ipv6";
  if (bits === undefined) list.addAddress(addr, type);
  else list.addSubnet(addr, Number(bits), type);
  return list;
}

/** A ceiling read back from storage, checked again rather than trusted (the file is outside our process). */
export function parseStoredCeiling(v: unknown): EgressCeiling {
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const hosts = Array.isArray(o.hosts) ? o.hosts.filter((h): h is string => typeof h === "string") : [];
  const ports = Array.isArray(o.ports) ? o.ports.filter((p): p is number | string => typeof p === "number" || typeof p === "string") : [];
  return checkCeiling({ hosts, ports, allowAddresses: o.allowAddresses === true });
}

/** Checks a ceiling as the operator sets it; problems are 400s naming the field. */
export function checkCeiling(c: EgressCeiling): EgressCeiling {
  portRanges(c.ports, "ports");
  const hosts = c.hosts.map((h, i) => {
    const host = h.trim().toLowerCase();
    if (host === "*") return host;
    if (cidrList(host)) {
      if (!c.allowAddresses) throw invalidInput(`hosts[${i}]: \`${h}\` is an address; set allowAddresses to allow addresses`, { field: `hosts[${i}]` });
      compileRules([{ host, protocol: "tcp", port: 1 }], { allowAddresses: true, field: "hosts" });
      return host;
    }
    const name = host.startsWith("*.") ? normaliseName(host.slice(2)) : normaliseName(host);
    if (!name || (host.startsWith("*.") && !name.includes(".")))
      throw invalidInput(`hosts[${i}]: \`${h}\` is not *, a host name, a *.suffix pattern or an address`, { field: `hosts[${i}]` });
    return host.startsWith("*.") ? `*.${name}` : name;
  });
  return { hosts, ports: c.ports, allowAddresses: c.allowAddresses };
}

function hostCovered(ceiling: EgressCeiling, rule: CompiledRule): boolean {
  const m = rule.match;
  return ceiling.hosts.some((h) => {
    if (m.kind === "address") {
      const list = cidrList(h);
      if (!list) return false;
      // A CIDR rule is inside a ceiling CIDR when the ceiling holds its address and its prefix is no shorter.
      const [addr = "", bits] = m.text.split("/");
      const type = isIP(addr) === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) return list.check(addr, type);
      return h.includes("/") && Number(h.split("/")[1]) <= Number(bits) && list.check(addr, type);
    }
    if (h === "*") return true;
    if (cidrList(h)) return false;
    if (m.kind === "name") return nameMatchesPattern(h, m.name);
    // A wildcard rule needs a wildcard ceiling at or above its suffix.
    return h.startsWith("*.") && (m.suffix === h.slice(2) || m.suffix.endsWith(`.${h.slice(2)}`));
  });
}

/**
 * Compiles a sandbox's rules under its tenant's ceiling; a rule outside it is
 * a 400 naming the rule.
 */
export function compileUnderCeiling(rules: EgressRule[], ceiling: EgressCeiling, field = "spec.network.egress"): CompiledRule[] {
  const compiled = compileRules(rules, { allowAddresses: ceiling.allowAddresses, field });
  const ranges = portRanges(ceiling.ports, "ports");
  for (const r of compiled) {
    const at = `${field}[${r.index}]`;
    if (!hostCovered(ceiling, r))
      throw invalidInput(`${at}: \`${r.rule.host}\` is outside this tenant's egress ceiling; ask the operator (nimbus tenant egress set)`, { field: at });
    if (!ranges.some(([from, to]) => r.port >= from && r.port <= to)) {
      throw invalidInput(`${at}: port ${r.port} is outside this tenant's egress ceiling (${ceiling.ports.join(", ")})`, { field: at });
    }
  }
  return compiled;
}
