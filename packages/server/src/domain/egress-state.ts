/**
 * What the egress data path asks the domain, per sandbox (issue 17). The DNS
 * responder and the proxy know a sandbox only by its address on the egress
 * bridge; this maps that address to the sandbox's compiled rules, the names
 * it resolved (address → names, until their TTL), and the secrets it may use,
 * and records every decision in the log.
 *
 * Order of a connection decision: an address of an always-refused class is
 * refused first, whatever the rules say (`classify` is the caller's address
 * classifier); then the rules decide (egress-policy.ts). A rule with methods
 * or path prefixes, or (for https) a secret bound to the host, means the proxy
 * must read the HTTP requests, terminating TLS for https (`inspect`).
 */
import { allowsName, decide, nameMatchesPattern, type CompiledRule, type Decision } from "./egress-policy.js";
import type { BoundSecret } from "./egress-secrets.js";
import type { EgressLog } from "./egress-log.js";

export interface SandboxEgress {
  tenantId: string;
  sandboxId: string;
  rules: CompiledRule[];
  secrets: BoundSecret[];
}

export interface ConnectionAttempt {
  /** The sandbox's address on the bridge (the connection's source). */
  client: string;
  address: string;
  port: number;
  sni?: string;
  host?: string;
}

export type ConnectionVerdict =
  (Decision & { allowed: false }) | { allowed: true; rule: CompiledRule; name?: string; inspect: boolean; secrets: BoundSecret[] };

/** Names an address resolved to, each until it expires. */
type Resolutions = Map<string, Map<string, number>>;

/** Resolutions are kept at least this long past their TTL: clients connect a little after they resolve. */
const RESOLUTION_GRACE_MS = 30_000;

export class EgressState {
  private readonly byAddress = new Map<string, SandboxEgress & { resolutions: Resolutions }>();

  constructor(
    private readonly deps: {
      log: Pick<EgressLog, "record">;
      /** The always-refused class of an address (loopback, link-local, metadata, private, …), or undefined. */
      classify(address: string): string | undefined;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** A sandbox got its address on the bridge (or new rules: open connections are re-checked by the caller). */
  set(client: string, egress: SandboxEgress): void {
    const resolutions = this.byAddress.get(client)?.resolutions ?? new Map();
    this.byAddress.set(client, { ...egress, resolutions });
  }

  get(client: string): SandboxEgress | undefined {
    return this.byAddress.get(client);
  }

  remove(client: string): void {
    this.byAddress.delete(client);
  }

  /** For the DNS responder: may this client resolve `name`? Logged either way. */
  allowsName(client: string, name: string): boolean {
    const sb = this.byAddress.get(client);
    const allowed = !!sb && allowsName(sb.rules, name);
    if (sb) {
      this.deps.log.record({
        tenantId: sb.tenantId,
        sandboxId: sb.sandboxId,
        kind: "dns",
        name,
        address: null,
        port: 53,
        protocol: "dns",
        decision: allowed ? "allowed" : "denied",
        rule: null,
        reason: allowed ? null : "no rule names this host",
        bytesUp: null,
        bytesDown: null,
        durationMs: null,
      });
    }
    return allowed;
  }

  /** For the DNS responder: `name` resolved to `addresses` for this client. */
  resolved(client: string, name: string, addresses: string[], ttlSec: number): void {
    const sb = this.byAddress.get(client);
    if (!sb) return;
    const until = this.now() + ttlSec * 1000 + RESOLUTION_GRACE_MS;
    for (const a of addresses) {
      let names = sb.resolutions.get(a);
      if (!names) sb.resolutions.set(a, (names = new Map()));
      names.set(name.toLowerCase(), until);
    }
  }

  private namesFor(sb: { resolutions: Resolutions }, address: string): string[] {
    const names = sb.resolutions.get(address);
    if (!names) return [];
    const now = this.now();
    for (const [n, until] of names) if (until < now) names.delete(n);
    return [...names.keys()];
  }

  /** For the proxy: one connection attempt, decided and logged. */
  decide(a: ConnectionAttempt): ConnectionVerdict {
    const sb = this.byAddress.get(a.client);
    if (!sb) return { allowed: false, reason: "the source is not a sandbox with egress" };
    const refusedClass = this.deps.classify(a.address);
    const verdict: ConnectionVerdict = refusedClass
      ? { allowed: false, reason: `always refused: ${refusedClass}` }
      : this.withInspection(sb, decide(sb.rules, { address: a.address, port: a.port, resolvedNames: this.namesFor(sb, a.address), sni: a.sni, host: a.host }));
    if (!verdict.allowed) {
      this.deps.log.record({
        tenantId: sb.tenantId,
        sandboxId: sb.sandboxId,
        kind: "connect",
        name: a.sni ?? a.host ?? null,
        address: a.address,
        port: a.port,
        protocol: a.sni ? "https" : a.host ? "http" : "tcp",
        decision: "denied",
        rule: refusedClass ? `always_refused:${refusedClass}` : null,
        reason: verdict.reason,
        bytesUp: null,
        bytesDown: null,
        durationMs: null,
      });
    }
    return verdict;
  }

  /** For the proxy, once an allowed connection closed: its traffic, for the log. */
  finished(a: ConnectionAttempt, verdict: ConnectionVerdict & { allowed: true }, traffic: { bytesUp: number; bytesDown: number; durationMs: number }): void {
    const sb = this.byAddress.get(a.client);
    if (!sb) return;
    this.deps.log.record({
      tenantId: sb.tenantId,
      sandboxId: sb.sandboxId,
      kind: "connect",
      name: verdict.name ?? null,
      address: a.address,
      port: a.port,
      protocol: verdict.rule.rule.protocol,
      decision: "allowed",
      rule: String(verdict.rule.index),
      reason: null,
      ...traffic,
    });
  }

  private withInspection(sb: SandboxEgress, d: Decision): ConnectionVerdict {
    if (!d.allowed) return d;
    // Secrets travel over TLS only: a plain-http rule never gets one put in.
    const https = d.rule.rule.protocol === "https";
    const secrets = https && d.name ? sb.secrets.filter((s) => s.hosts.some((p) => nameMatchesPattern(p, d.name!))) : [];
    const narrowed = !!(d.rule.rule.methods?.length || d.rule.rule.pathPrefixes?.length);
    return { allowed: true, rule: d.rule, name: d.name, secrets, inspect: narrowed || secrets.length > 0 };
  }
}
