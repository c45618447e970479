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
  /** `name` in the container's bundle directory. */
  private inBundle(id: string, name: string): string {
    return join(this.bundle(id), name);
  }

  readonly rootfs = (id: string): string => this.inBundle(id, "rootfs");
  readonly config = (id: string): string => this.inBundle(id, "config.json");
  readonly log = (id: string): string => this.inBundle(id, "ctr.log");
  readonly containerPidFile = (id: string): string => this.inBundle(id, "pidfile");
  readonly conmonPidFile = (id: string): string => this.inBundle(id, "conmon.pid");
  readonly oomFile = (id: string): string => this.inBundle(id, "oom");
  /** conmon's control FIFO (terminal resize, reopen log). */
  readonly ctlFifo = (id: string): string => this.inBundle(id, "ctl");
  readonly exitFile = (id: string): string => join(this.exitsDir, id);
  /** conmon's SOCK_SEQPACKET attach socket (stdin in, stdout/stderr out). */
  readonly attachSocket = (id: string): string => join(this.socketsDir, id, "attach");
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
