// runtime/container/egress/nft.ts — the server's nftables table: everything a
// sandbox sends arrives on the bridge in the host netns, where these rules (out
// of the sandbox's reach) redirect all IPv4 TCP to the egress proxy and DNS
// (UDP/TCP 53) to the DNS responder, and drop the rest: other UDP, ICMP, IPv6,
// anything the host would forward, and connections to the host's own addresses
// (those get a TCP reset, so a client fails at once instead of hanging).
// The whole table is replaced in one `nft -f` transaction, so there is never a
// moment with half a ruleset.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../exec.js";

export interface RulesetOptions {
  table: string;
  bridge: string;
  /** The sandbox block (CIDR): never redirected, so sandbox-to-sandbox TCP is dropped, not proxied. */
  sandboxBlock: string;
  proxyPort: number;
  /** Where DNS goes; without it, DNS is treated like any other traffic (TCP to the proxy, UDP dropped). */
  dnsPort?: number;
}

/** The nft script: (re)creates the table atomically (`add` + `delete` + definition in one transaction). */
export function renderRuleset(o: RulesetOptions): string {
  const br = JSON.stringify(o.bridge);
  const dns = o.dnsPort === undefined ? [] : [`meta l4proto { tcp, udp } th dport 53 redirect to :${o.dnsPort}`];
  return [
    `add table inet ${o.table}`,
    `delete table inet ${o.table}`,
    `table inet ${o.table} {`,
    // Before conntrack's nat: only IPv4 TCP, and DNS when there is a responder, may go on.
    `  chain pre_filter {`,
    `    type filter hook prerouting priority -150; policy accept;`,
    `    iifname ${br} meta nfproto ipv6 drop`,
    ...(o.dnsPort === undefined ? [] : [`    iifname ${br} meta l4proto { tcp, udp } th dport 53 accept`]),
    `    iifname ${br} meta l4proto tcp accept`,
    `    iifname ${br} drop`,
    `  }`,
    `  chain pre_nat {`,
    `    type nat hook prerouting priority dstnat; policy accept;`,
    ...dns.map((r) => `    iifname ${br} ${r}`),
    // The host's own addresses and other sandboxes are not proxied: input rejects them, forward drops them.
    `    iifname ${br} fib daddr type local return`,
    `    iifname ${br} ip daddr ${o.sandboxBlock} return`,
    `    iifname ${br} meta l4proto tcp redirect to :${o.proxyPort}`,
    `  }`,
    // Only what the nat chain redirected reaches a local socket.
    `  chain input {`,
    `    type filter hook input priority filter; policy accept;`,
    `    iifname ${br} ct status dnat accept`,
    `    iifname ${br} meta l4proto tcp reject with tcp reset`,
    `    iifname ${br} drop`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    `    iifname ${br} drop`,
    `    oifname ${br} drop`,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

async function nft(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand("nft", args, { timeoutMs: 10_000 });
}

/** Applies the ruleset in one transaction (`nft -f` on a private temp file). */
export async function applyRuleset(o: RulesetOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-nft-"));
  try {
    const file = join(dir, "ruleset.nft");
    await writeFile(file, renderRuleset(o), { mode: 0o600 });
    const r = await nft(["-f", file]);
    if (r.code !== 0) throw new Error(`nft -f (table ${o.table}) exited ${r.code}: ${r.stderr.trim()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deletes the table; absent is fine. */
export async function removeTable(table: string): Promise<void> {
  if (!(await tableExists(table))) return;
  const r = await nft(["delete", "table", "inet", table]);
  if (r.code !== 0 && (await tableExists(table))) throw new Error(`nft delete table inet ${table}: ${r.stderr.trim()}`);
}

export async function tableExists(table: string): Promise<boolean> {
  return (await nft(["list", "table", "inet", table])).code === 0;
}
