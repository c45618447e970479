// runtime/container/egress/veth.ts — one sandbox's link to the bridge: a veth
// pair whose host end joins the bridge (as an isolated port, so sandboxes cannot
// reach each other at layer 2) and whose other end is created directly inside
// the container's netns as eth0, addressed, with the default route via the
// gateway. The host end's alias records the container and its address, so a
// restarted server can re-adopt or sweep what its previous run attached.

import { ip, ipInNetns, ipTry, listLinks } from "./ip.js";

const ALIAS_PREFIX = "nimbus-egress:";

export interface VethAttachment {
  hostName: string;
  containerId: string;
  /** The sandbox's IPv4 address (without prefix length). */
  address: string;
}

export interface AttachOptions {
  hostName: string;
  bridge: string;
  containerId: string;
  pid: number;
  address: string;
  prefixLength: number;
  gateway: string;
}

/** Creates the pair for `pid`'s netns; an existing host end of the same name (a retry, or a crash) is replaced. */
export async function attachVeth(o: AttachOptions): Promise<VethAttachment> {
  await removeVeth(o.hostName);
  await ip(["link", "add", o.hostName, "type", "veth", "peer", "name", "eth0", "netns", String(o.pid)]);
  try {
    await ip(["link", "set", "dev", o.hostName, "alias", `${ALIAS_PREFIX}${o.containerId}:${o.address}`]);
    await ip(["link", "set", "dev", o.hostName, "master", o.bridge]);
    await ip(["link", "set", "dev", o.hostName, "type", "bridge_slave", "isolated", "on"]);
    await ip(["link", "set", "dev", o.hostName, "up"]);
    await ipInNetns(o.pid, ["addr", "add", `${o.address}/${o.prefixLength}`, "dev", "eth0"]);
    await ipInNetns(o.pid, ["link", "set", "dev", "eth0", "up"]);
    await ipInNetns(o.pid, ["route", "add", "default", "via", o.gateway, "dev", "eth0"]);
  } catch (err) {
    await removeVeth(o.hostName).catch(() => {});
    throw err;
  }
  return { hostName: o.hostName, containerId: o.containerId, address: o.address };
}

/** Deletes the pair (deleting one end deletes both); absent is fine. */
export async function removeVeth(hostName: string): Promise<void> {
  const r = await ipTry(["link", "del", "dev", hostName]);
  if (!r.ok && !/cannot find device|does not exist/i.test(r.stderr)) throw new Error(`ip link del ${hostName}: ${r.stderr}`);
}

/** The host ends named with `prefix` (this server's), with what their alias says. */
export async function listVeths(prefix: string): Promise<Array<VethAttachment | { hostName: string; containerId?: undefined }>> {
  const out = [];
  for (const link of await listLinks()) {
    if (!link.ifname.startsWith(prefix)) continue;
    const m = link.ifalias?.startsWith(ALIAS_PREFIX) ? /^([^:]+):(.+)$/.exec(link.ifalias.slice(ALIAS_PREFIX.length)) : null;
    out.push(m ? { hostName: link.ifname, containerId: m[1]!, address: m[2]! } : { hostName: link.ifname });
  }
  return out;
}
