// runtime/container/egress/bridge.ts — the per-server bridge that every sandbox's
// veth joins. It carries the gateway address, which is also where the egress
// proxy and DNS responder listen (nftables redirects to the incoming interface's
// address). Creating is idempotent, so a server restarted after a crash adopts
// the bridge its previous run left.

import { ip, ipTry } from "./ip.js";

/** Creates (or adopts) `name` with exactly `gatewayCidr` as its IPv4 address, and brings it up. */
export async function ensureBridge(name: string, gatewayCidr: string): Promise<void> {
  const exists = (await ipTry(["link", "show", "dev", name])).ok;
  if (!exists) await ip(["link", "add", "name", name, "type", "bridge"]);
  // Drop addresses a previous run with another block may have left, then set ours.
  await ip(["-4", "addr", "flush", "dev", name]);
  await ip(["addr", "add", gatewayCidr, "dev", name]);
  await ip(["link", "set", "dev", name, "up"]);
}

/** Deletes the bridge; absent is fine (idempotent). */
export async function removeBridge(name: string): Promise<void> {
  const r = await ipTry(["link", "del", "dev", name]);
  if (!r.ok && !/cannot find device|does not exist/i.test(r.stderr)) throw new Error(`ip link del ${name}: ${r.stderr}`);
}
