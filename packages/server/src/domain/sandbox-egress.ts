/**
 * Sandbox egress as the domain runs it (issue 17): rules compiled under the
 * tenant's ceiling at create, the sandbox's bridge address registered with
 * the policy state after the runtime created it (before its process starts),
 * and the runtime's data path bound to that state: the DNS responder asks
 * which names resolve, the proxy asks per connection, and every decision goes
 * to the decision log. A sandbox without rules touches none of this.
 */
import type { EgressConnection, EgressHttpRequest, EgressInspection, RuntimeBackend } from "../runtime/backend.js";
import type { EgressLogQuery, EgressLogRow } from "../store/egress-log-store.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { compileUnderCeiling } from "./egress-ceiling.js";
import type { EgressCeiling } from "./egress-ceiling.js";
import type { CompiledRule, EgressRule } from "./egress-policy.js";
import { refusedClass } from "./egress-address-class.js";
import type { EgressLog } from "./egress-log.js";
import { injectSecrets, placeholderEnv, type BoundSecret } from "./egress-secrets.js";
import { EgressState, type ConnectionVerdict } from "./egress-state.js";
import { AppError, invalidInput } from "./errors.js";

export interface SandboxEgressDeps {
  runtime: RuntimeBackend;
  log: EgressLog;
  ceilingOf(tenantId: string): EgressCeiling;
  secrets: { boundFor(tenantId: string, names: string[]): BoundSecret[] };
}

/** What create keeps of a sandbox's egress spec once it is checked. */
export interface CheckedEgress {
  rules: CompiledRule[];
  secretNames: string[];
}

export class SandboxEgress {
  readonly state: EgressState;
  /** sandbox id → its bridge address, while registered. */
  private readonly addresses = new Map<string, string>();
  /** bridge address → its sandbox, for records made here. */
  private readonly owners = new Map<string, { tenantId: string; sandboxId: string }>();
  private readonly verdicts = new WeakMap<EgressConnection, ConnectionVerdict>();

  constructor(private readonly deps: SandboxEgressDeps) {
    this.state = new EgressState({ log: deps.log, classify: refusedClass });
    deps.runtime.egress?.bind({
      decide: (c) => {
        const verdict = this.state.decide({ client: c.client, address: c.address, port: c.port, sni: c.sni, host: c.host });
        this.verdicts.set(c, verdict);
        // `inspect` verdicts (methods/pathPrefixes, secrets): the proxy checks each request.
        if (verdict.allowed && verdict.inspect) return this.inspection(c, verdict);
        return verdict.allowed;
      },
      finished: (c, traffic) => {
        const verdict = this.verdicts.get(c);
        if (verdict?.allowed) this.state.finished({ client: c.client, address: c.address, port: c.port, sni: c.sni, host: c.host }, verdict, traffic);
      },
      allowsName: (client, name) => this.state.allowsName(client, name),
      resolved: (client, name, addresses, ttl) => this.state.resolved(client, name, addresses, ttl),
    });
  }

  /**
   * An allowed https connection whose rule narrows methods or paths, or whose
   * host has a secret: the proxy terminates TLS and asks per request. Each
   * request is logged; secrets go into the headers of requests to their hosts.
   * A plain-http connection under an http rule is checked per request the same
   * way, without any header rewriting (secrets go over TLS only). Anything else
   * (e.g. TLS under an http rule) is refused, never let through unchecked.
   */
  private inspection(c: EgressConnection, verdict: ConnectionVerdict & { allowed: true }): boolean | EgressInspection {
    const owner = this.owners.get(c.client);
    const rule = verdict.rule.rule;
    const record = (
      req: EgressHttpRequest | undefined,
      decision: "allowed" | "denied",
      reason: string | null,
      traffic?: { bytesUp: number; bytesDown: number },
    ) => {
      if (!owner) return;
      this.deps.log.record({
        ...owner,
        kind: "connect",
        name: req?.host ?? verdict.name ?? null,
        address: c.address,
        port: c.port,
        protocol: rule.protocol,
        decision,
        rule: String(verdict.rule.index),
        reason,
        bytesUp: traffic?.bytesUp ?? null,
        bytesDown: traffic?.bytesDown ?? null,
        durationMs: null,
      });
    };
    const plainHttp = rule.protocol === "http" && c.protocol === "http";
    if (!plainHttp && (rule.protocol !== "https" || c.protocol !== "tls")) {
      record(undefined, "denied", "the rule narrows methods or paths, which only inspected http and https can check");
      return false;
    }
    return {
      allowRequest: (req) => {
        if (rule.methods?.length && !rule.methods.includes(req.method.toUpperCase()))
          return `method ${req.method} is not in the rule's methods (${rule.methods.join(", ")})`;
        if (rule.pathPrefixes?.length && !rule.pathPrefixes.some((p) => req.path.startsWith(p)))
          return `path ${req.path.slice(0, 200)} is under none of the rule's path prefixes`;
        return undefined;
      },
      ...(plainHttp
        ? {}
        : { rewriteHeaders: (headers: Array<[string, string]>, req: EgressHttpRequest) => injectSecrets(headers, req.host, verdict.secrets).headers }),
      onRequest: (req, outcome) =>
        record(req, outcome.allowed ? "allowed" : "denied", outcome.reason ?? `${req.method} ${req.path.slice(0, 200)} → ${outcome.status}`, outcome),
    };
  }

  /**
   * Checks a spec's egress at create: undefined for a sandbox without rules
   * (loopback only); a rule outside the tenant's ceiling or an unknown secret is a 400.
   */
  check(tenantId: string, spec: SandboxSpec): CheckedEgress | undefined {
    const rules = (spec.network?.egress ?? []) as EgressRule[];
    const secretNames = spec.network?.secrets ?? [];
    if (rules.length === 0) {
      if (secretNames.length > 0)
        throw invalidInput("spec.network.secrets needs egress rules: a sandbox without rules has no network to use them on", { field: "spec.network.secrets" });
      return undefined;
    }
    if (!this.deps.runtime.egress)
      throw new AppError("op.invalid_input", "this server's runtime has no egress data path: remove spec.network.egress", {
        detail: { field: "spec.network.egress" },
      });
    const compiled = compileUnderCeiling(rules, this.deps.ceilingOf(tenantId));
    const found = new Set(this.deps.secrets.boundFor(tenantId, secretNames).map((s) => s.name));
    secretNames.forEach((name, i) => {
      if (!found.has(name))
        throw invalidInput(`spec.network.secrets[${i}]: tenant \`${tenantId}\` has no secret \`${name}\` (nimbus secret set)`, {
          field: `spec.network.secrets[${i}]`,
        });
    });
    return { rules: compiled, secretNames };
  }

  /** The environment a sandbox with secrets gets: placeholders only, never values. */
  env(checked: CheckedEgress): string[] {
    return placeholderEnv(checked.secretNames);
  }

  /** The runtime created the sandbox's container: its address now answers to its rules. */
  register(tenantId: string, sandboxId: string, checked: CheckedEgress): void {
    const address = this.deps.runtime.egress?.addressOf(sandboxId);
    if (!address) throw new AppError("service.internal", `sandbox ${sandboxId} was created with egress but has no address on the egress network`);
    // Secrets are read now (values unsealed in memory only), so a secret changed later applies to new sandboxes.
    this.state.set(address, { tenantId, sandboxId, rules: checked.rules, secrets: this.deps.secrets.boundFor(tenantId, checked.secretNames) });
    this.addresses.set(sandboxId, address);
    this.owners.set(address, { tenantId, sandboxId });
  }

  /**
   * New rules for a registered sandbox: new connections and lookups follow them
   * at once (the names it resolved are kept), and open connections they no
   * longer allow are closed. Returns how many were closed.
   */
  async update(tenantId: string, sandboxId: string, rules: CompiledRule[]): Promise<number> {
    const address = this.addresses.get(sandboxId);
    if (address === undefined) return 0;
    const current = this.state.get(address);
    this.state.set(address, { tenantId, sandboxId, rules, secrets: current?.secrets ?? [] });
    return (await this.deps.runtime.egress?.recheck(sandboxId)) ?? 0;
  }

  /** Rules for a PATCH: the same checks as at create; an empty list refuses everything. */
  compile(tenantId: string, rules: EgressRule[]): CompiledRule[] {
    return rules.length === 0 ? [] : compileUnderCeiling(rules, this.deps.ceilingOf(tenantId), "egress");
  }

  /** Whether the sandbox has a link (it was created with rules and runs). */
  has(sandboxId: string): boolean {
    return this.addresses.has(sandboxId);
  }

  /** The sandbox's container is gone (or going): its address no longer answers to anything. */
  unregister(sandboxId: string): void {
    const address = this.addresses.get(sandboxId);
    if (address === undefined) return;
    this.addresses.delete(sandboxId);
    this.owners.delete(address);
    this.state.remove(address);
  }

  /** A page of the sandbox's decision log, oldest first, and how many rows follow it. */
  logPage(tenantId: string, sandboxId: string, q: EgressLogQuery): { rows: EgressLogRow[]; remaining: number } {
    const rows = this.deps.log.page(tenantId, sandboxId, q);
    const last = rows.at(-1);
    const remaining = last ? this.deps.log.count(tenantId, sandboxId, { ...q, after: last.seq }) : 0;
    return { rows, remaining };
  }

  forget(tenantId: string, sandboxId: string): void {
    this.unregister(sandboxId);
    this.deps.log.forget(tenantId, sandboxId);
  }
}
