// runtime/container/layout.ts — where a backend keeps its things under its state dir.
// One state root per server (`<data-dir>/runtime`) holds the OCI runtime's --root,
// the bundles, conmon's exit files and attach-socket links, so two servers (or two
// test cases) on one host never see each other's containers.
//
//   <stateDir>/root/            OCI runtime state (--root)
//   <stateDir>/c/<id>/          bundle: config.json, rootfs/, upper/, work/, hosts,
//                               hostname, resolv.conf; conmon: pidfile, conmon.pid,
//                               ctr.log, exit, oom, ctl, winsz, attach; with a disk
//                               limit: disk.img mounted at disk/, upper/ and work/ inside
//   <stateDir>/exits/<id>       conmon's exit file (exit code as text)
//   <stateDir>/s/<id>           conmon's short symlink to the bundle (attach socket path)

import { readdirSync } from "node:fs";
import { join } from "node:path";

export class StateLayout {
  readonly runtimeRoot: string;
  readonly bundlesDir: string;
  readonly exitsDir: string;
  readonly socketsDir: string;

  constructor(readonly stateDir: string) {
    this.runtimeRoot = join(stateDir, "root");
    this.bundlesDir = join(stateDir, "c");
    this.exitsDir = join(stateDir, "exits");
    this.socketsDir = join(stateDir, "s");
  }

  bundle(id: string): string {
    return join(this.bundlesDir, id);
  }
  rootfs(id: string): string {
    return join(this.bundle(id), "rootfs");
  }
  config(id: string): string {
    return join(this.bundle(id), "config.json");
  }
  log(id: string): string {
    return join(this.bundle(id), "ctr.log");
  }
  containerPidFile(id: string): string {
    return join(this.bundle(id), "pidfile");
  }
  conmonPidFile(id: string): string {
    return join(this.bundle(id), "conmon.pid");
  }
  oomFile(id: string): string {
    return join(this.bundle(id), "oom");
  }
  exitFile(id: string): string {
    return join(this.exitsDir, id);
  }
  /** conmon's SOCK_SEQPACKET attach socket (stdin in, stdout/stderr out). */
  attachSocket(id: string): string {
    return join(this.socketsDir, id, "attach");
  }
  /** conmon's control FIFO (terminal resize, reopen log). */
  ctlFifo(id: string): string {
    return join(this.bundle(id), "ctl");
  }
}

/**
 * Ids of every container that has a bundle or OCI runtime state under
 * `stateDir`, read from the directories alone (no runtime needed): the
 * evidence, at start, that this data dir holds sandboxes.
 */
export function containersOnDisk(stateDir: string): string[] {
  const layout = new StateLayout(stateDir);
  const ids = new Set<string>();
  for (const dir of [layout.bundlesDir, layout.runtimeRoot]) {
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) ids.add(e.name);
    } catch {
      /* not created yet */
    }
  }
  return [...ids].sort();
}
