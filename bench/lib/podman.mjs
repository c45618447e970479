// What the benches that compare against podman share: a podman whose state
// lives entirely under the bench's own dir, run with limits this host lets
// crun set, and removal of the parent cgroups podman leaves behind.
import { readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Global flags: --root, --runroot, --tmpdir and --volumepath under `dir`.
 * The default tmpdir (/run/libpod) is shared, and `system reset` of another
 * podman user (a concurrent bench) empties it under this one's containers.
 */
export function podmanGlobalArgs(dir) {
  const d = (name) => join(dir, name);
  return [
    "--root",
    d("root"),
    "--runroot",
    d("run"),
    "--tmpdir",
    d("tmp"),
    "--volumepath",
    d("volumes"),
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "none",
  ];
}

/**
 * `run` flags: rootful podman asks for nofile and nproc limits that crun may
 * not set on this host (setrlimit EPERM, even at the caller's own hard
 * limits); small fixed ones do, and the benches' processes do not feel them.
 */
export const PODMAN_RUN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

/**
 * podman with cgroupfs leaves its parent cgroups (libpod_parent, and conmon's
 * under it) in every controller; rmdir takes them only when empty, so a
 * podman still in use elsewhere keeps its own.
 */
export function removePodmanCgroupParents() {
  for (const controller of readdirSync("/sys/fs/cgroup")) {
    for (const d of ["libpod_parent/conmon", "libpod_parent"]) {
      try {
        rmdirSync(join("/sys/fs/cgroup", controller, d));
      } catch {
        /* absent, or in use */
      }
    }
  }
}
