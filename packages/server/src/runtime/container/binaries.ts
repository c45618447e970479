// runtime/container/binaries.ts — locating host binaries (crun, runc, runsc, conmon).
// Owns the search path used both by the backend and by the host check, which
// includes the sbin dirs a non-login root shell may lack (Debian puts runc there).

import { accessSync, constants } from "node:fs";
import { join } from "node:path";

const EXTRA_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/libexec/podman"];

/** Absolute path of an executable named `name`, or undefined. A path is checked as is. */
export function findBinary(name: string, pathEnv = process.env.PATH ?? ""): string | undefined {
  const candidates = name.includes("/") ? [name] : [...pathEnv.split(":").filter(Boolean), ...EXTRA_DIRS].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
