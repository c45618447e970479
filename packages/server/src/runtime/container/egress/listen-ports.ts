// runtime/container/egress/listen-ports.ts — the proxy's and DNS responder's
// ports, kept in the state dir so a restarted server listens where the last
// one did. The nftables table DNATs sandbox traffic to these ports, and the
// kernel's conntrack entries keep the old DNAT for a flow until they time out
// (30 s for UDP, refreshed by every packet): a sandbox resolver that reuses a
// UDP socket would otherwise keep asking a dead port after every restart.
// A port another process took meanwhile is given up for a free one.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ListenPorts {
  proxy?: number;
  dns?: number;
}

const fileOf = (stateDir: string) => join(stateDir, "egress-ports.json");
const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;

/** The ports the last server used; none when the file is missing or damaged. */
export function readListenPorts(stateDir: string): ListenPorts {
  try {
    const raw = JSON.parse(readFileSync(fileOf(stateDir), "utf8")) as Record<string, unknown>;
    return { ...(isPort(raw.proxy) ? { proxy: raw.proxy } : {}), ...(isPort(raw.dns) ? { dns: raw.dns } : {}) };
  } catch {
    return {};
  }
}

export function writeListenPorts(stateDir: string, ports: ListenPorts): void {
  writeFileSync(fileOf(stateDir), JSON.stringify(ports), { mode: 0o600 });
}

/** `open(preferred)`, or `open(0)` (any free port) when there is no preferred port or it cannot be had. */
export async function openPreferring<T>(preferred: number | undefined, open: (port: number) => Promise<T>): Promise<T> {
  if (preferred !== undefined) {
    try {
      return await open(preferred);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  return open(0);
}
