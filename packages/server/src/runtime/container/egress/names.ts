// runtime/container/egress/names.ts — every host-visible name and the default
// address block of one server's egress network, derived from its state dir.
// Derived (not stored) so that a server restarted after a crash finds, and a
// leak check reports, exactly what the previous run of the same state dir left:
// the bridge, the nftables table and the host ends of the veths all carry the
// same short hash. Linux caps interface names at 15 characters.

import { createHash } from "node:crypto";

export interface EgressNames {
  /** The per-server bridge, e.g. `nbr-1a2b3c4d` (12 chars). */
  bridge: string;
  /** The nftables table (family inet), e.g. `nimbus_1a2b3c4d`. */
  table: string;
  /** Prefix of every host-side veth of this server, e.g. `nv1a2b3c` (8 chars). */
  vethPrefix: string;
}

function hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function egressNames(stateDir: string): EgressNames {
  const h = hex(stateDir);
  return { bridge: `nbr-${h.slice(0, 8)}`, table: `nimbus_${h.slice(0, 8)}`, vethPrefix: `nv${h.slice(0, 6)}` };
}

/** The host end of a container's veth: the server's prefix plus 7 hex of the container id (15 chars). */
export function vethName(stateDir: string, containerId: string): string {
  return `${egressNames(stateDir).vethPrefix}${hex(containerId).slice(0, 7)}`;
}

/**
 * The default sandbox block: a /16 inside 100.64.0.0/10 (shared address space,
 * which the policy always refuses as a destination), chosen by the state dir so
 * that two servers (or two test runs) on one host do not share a subnet.
 */
export function defaultSandboxBlock(stateDir: string): string {
  const n = parseInt(hex(stateDir).slice(8, 12), 16) % 64;
  return `100.${64 + n}.0.0/16`;
}
