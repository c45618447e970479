/**
 * The always-refused classes of destination addresses for egress (issue 17):
 * whatever a sandbox's rules say, the proxy never dials these. The check runs
 * on the address the connection was actually going to, so a name that
 * resolves to one of them (DNS rebinding) is refused too.
 *
 * TODO(issue 17): replace with net/address-class.ts (another branch's shared
 * classifier, also used by the registry client) once it is in this tree; the
 * class names here follow it.
 */
import { BlockList, isIP } from "node:net";

const CLASSES: Array<[string, Array<[string, number, "ipv4" | "ipv6"]>]> = [
  ["unspecified", [["0.0.0.0", 8, "ipv4"], ["::", 128, "ipv6"]]],
  ["loopback", [["127.0.0.0", 8, "ipv4"], ["::1", 128, "ipv6"]]],
  // The metadata address is link-local too; named first so the log says which.
  ["metadata", [["169.254.169.254", 32, "ipv4"], ["fd00:ec2::254", 128, "ipv6"]]],
  ["link_local", [["169.254.0.0", 16, "ipv4"], ["fe80::", 10, "ipv6"]]],
  ["private", [["10.0.0.0", 8, "ipv4"], ["172.16.0.0", 12, "ipv4"], ["192.168.0.0", 16, "ipv4"], ["fc00::", 7, "ipv6"]]],
  // Shared address space: also where sandboxes themselves live (other sandboxes are refused with it).
  ["shared", [["100.64.0.0", 10, "ipv4"]]],
  ["multicast", [["224.0.0.0", 4, "ipv4"], ["ff00::", 8, "ipv6"]]],
  ["reserved", [["240.0.0.0", 4, "ipv4"]]],
];

const LISTS = CLASSES.map(([name, ranges]): [string, BlockList] => {
  const list = new BlockList();
  for (const [net, prefix, type] of ranges) list.addSubnet(net, prefix, type);
  return [name, list];
});

/** The always-refused class of `address`, or undefined when it may be dialled (rules permitting). Unparseable → "invalid". */
export function refusedClass(address: string): string | undefined {
  let a = address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  const family = isIP(a);
  if (family === 0) return "invalid";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [name, list] of LISTS) if (list.check(a, type)) return name;
  return undefined;
}
