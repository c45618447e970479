/**
 * The always-refused classes of destination addresses for egress (issue 17):
 * whatever a sandbox's rules say, the proxy never dials these. The check runs
 * on the address the connection was actually going to, so a name that
 * resolves to one of them (DNS rebinding) is refused too. The classes come
 * from the one classifier (net/address-class.ts, which the registry client
 * uses too); which of them egress refuses is this module's rule. Reserved
 * ranges such as the benchmarking 198.18.0.0/15 are not refused here: they
 * are not reachable beyond this host anyway, and the tests' fake internet
 * lives there.
 */
import { classifyAddress, type AddressClass } from "../net/address-class.js";

const REFUSED: ReadonlySet<AddressClass> = new Set([
  "unspecified",
  "loopback",
  "metadata",
  "link_local",
  "private",
  "unique_local",
  "shared",
  "multicast",
  "invalid",
]);

/** The always-refused class of `address` (ULA is reported as `private`), or undefined when rules may allow it. */
export function refusedClass(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const cls = classifyAddress(mapped ? mapped[1]! : address);
  if (!REFUSED.has(cls)) return undefined;
  return cls === "unique_local" ? "private" : cls;
}
