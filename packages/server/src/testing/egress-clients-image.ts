/**
 * An image with the HTTP clients agents use, for the egress tests: Debian
 * bookworm minbase with Debian's curl, python3 and python3-requests (and
 * ca-certificates), plus Node 22 at /usr/local/bin/node from the npm package
 * the node stand-in uses. One mmdebstrap run from Debian's mirror, cached in
 * the fixture cache as `egress-clients` (cold: a few minutes; warm: nothing).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cached, writeDebianLayout } from "./fixtures.js";
import { nodeTarball } from "./standin.js";

export const EGRESS_CLIENTS_PACKAGES = ["ca-certificates", "curl", "python3", "python3-requests"];

/** Builds (once) and returns the image's OCI layout dir, tagged `FIXTURE_TAG`. */
export async function buildEgressClientsImage(): Promise<string> {
  return cached("egress-clients", (dir) => {
    const npm = join(dir, "npm");
    mkdirSync(npm);
    execFileSync("tar", ["-xzf", nodeTarball(), "-C", npm, "package/bin/node"]);
    writeDebianLayout(dir, [
      `--include=${EGRESS_CLIENTS_PACKAGES.join(",")}`,
      `--customize-hook=copy-in ${join(npm, "package", "bin", "node")} /usr/local/bin`,
    ]);
    rmSync(npm, { recursive: true, force: true });
  });
}
