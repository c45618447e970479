// runtime/host-tools.ts — the host programs the server runs besides the OCI
// runtime and conmon (which host-check.ts requires outright), with the Debian
// package of each and what stops working without it, so `nimbus start` can
// name every missing one at boot instead of a sandbox failing later with the
// cause only in a log line.

import { findBinary } from "./container/exec.js";

export interface HostTool {
  name: string;
  /** The Debian package that installs it. */
  aptPackage: string;
  /** What fails without it. */
  neededFor: string;
}

export const HOST_TOOLS: readonly HostTool[] = [
  { name: "ip", aptPackage: "iproute2", neededFor: "sandbox networking" },
  { name: "nft", aptPackage: "nftables", neededFor: "sandbox networking and egress rules" },
  { name: "socat", aptPackage: "socat", neededFor: "publishing sandbox ports (services, endpoints), processes with stdin and closableStdin" },
  { name: "sleep", aptPackage: "coreutils", neededFor: "processes with stdin and closableStdin (the stdin keeper)" },
  { name: "nsenter", aptPackage: "util-linux", neededFor: "publishing sandbox ports" },
  { name: "setpriv", aptPackage: "util-linux", neededFor: "publishing sandbox ports" },
  { name: "openssl", aptPackage: "openssl", neededFor: "the egress inspection CA" },
  { name: "tar", aptPackage: "tar", neededFor: "file and image archives" },
  { name: "zstd", aptPackage: "zstd", neededFor: "zstd-compressed image layers" },
];

/** The tools of {@link HOST_TOOLS} not found on `pathEnv`. */
export function missingHostTools(pathEnv = process.env.PATH ?? ""): HostTool[] {
  return HOST_TOOLS.filter((t) => !findBinary(t.name, pathEnv));
}

/** One line naming the missing tools, what they are for, and the apt command that installs them. */
export function describeMissingTools(missing: readonly HostTool[]): string | undefined {
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((t) => t.aptPackage))].join(" ");
  const what = missing.map((t) => `${t.name} (${t.neededFor})`).join(", ");
  return `missing host tools: ${what}; run \`apt-get install -y ${packages}\``;
}
