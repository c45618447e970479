// runtime/container/egress/leftovers.ts — what of a state dir's egress network is
// on the host: its bridge, its host-side veths and its nftables table. Used by
// runtime/leak-check.ts; a host without ip or nft has none of them.

import { findBinary, runCommand } from "../exec.js";
import { egressNames } from "./names.js";
import type { LinkInfo } from "./ip.js";

export async function egressLeftovers(stateDir: string): Promise<{ egressLinks: string[]; nftTables: string[] }> {
  const names = egressNames(stateDir);
  const egressLinks: string[] = [];
  if (findBinary("ip")) {
    const r = await runCommand("ip", ["-j", "link", "show"], { timeoutMs: 10_000 });
    const links = r.code === 0 ? (JSON.parse(r.stdout || "[]") as LinkInfo[]) : [];
    for (const l of links) if (l.ifname === names.bridge || l.ifname.startsWith(names.vethPrefix)) egressLinks.push(l.ifname);
  }
  const nftTables: string[] = [];
  if (findBinary("nft") && (await runCommand("nft", ["list", "table", "inet", names.table], { timeoutMs: 10_000 })).code === 0) {
    nftTables.push(`inet ${names.table}`);
  }
  return { egressLinks, nftTables };
}
