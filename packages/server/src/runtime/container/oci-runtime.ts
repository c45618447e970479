// runtime/container/oci-runtime.ts — the OCI runtime command line (crun, runc, runsc).
// Owns the subcommands the backend runs itself (state, start, kill, delete, list);
// `create` is run by conmon. All calls pass our own --root so each server's
// containers are invisible to every other user of the same runtime. Also crun's
// exec.fifo start protocol, which saves exec'ing crun for every start.

import { closeSync, constants, fstatSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./exec.js";

export interface RuntimeStateJson {
  id: string;
  status: string; // created | running | stopped | paused
  pid?: number;
}

export class OciRuntime {
  constructor(
    readonly path: string,
    /** Global flags before the subcommand: --root=<dir> and backend extras. */
    readonly globalArgs: string[],
  ) {}

  private run(args: string[]) {
    return runCommand(this.path, [...this.globalArgs, ...args]);
  }

  /** undefined when the runtime has no such container. */
  async state(id: string): Promise<RuntimeStateJson | undefined> {
    const r = await this.run(["state", id]);
    if (r.code !== 0) {
      if (isMissing(r.stderr)) return undefined;
      throw new Error(`${this.path} state ${id}: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout) as RuntimeStateJson;
  }

  async start(id: string): Promise<void> {
    const r = await this.run(["start", id]);
    if (r.code !== 0) throw new Error(r.stderr.trim() || `${this.path} start exited ${r.code}`);
  }

  /** Returns false when the container or its process is already gone. */
  async kill(id: string, signal: string): Promise<boolean> {
    const r = await this.run(["kill", id, signal.replace(/^SIG/, "")]);
    if (r.code === 0) return true;
    if (isMissing(r.stderr) || /not running|process already finished|no such process|container not running|stopped/i.test(r.stderr)) {
      return false;
    }
    throw new Error(`${this.path} kill ${id} ${signal}: ${r.stderr.trim()}`);
  }

  /** Kills a live container and removes its runtime state; missing is fine. */
  async forceDelete(id: string): Promise<void> {
    const r = await this.run(["delete", "--force", id]);
    if (r.code !== 0 && !isMissing(r.stderr)) throw new Error(`${this.path} delete ${id}: ${r.stderr.trim()}`);
  }

  async list(): Promise<RuntimeStateJson[]> {
    const r = await this.run(["list", "--format", "json"]);
    if (r.code !== 0) throw new Error(`${this.path} list: ${r.stderr.trim()}`);
    const text = r.stdout.trim();
    if (text === "" || text === "null") return [];
    return JSON.parse(text) as RuntimeStateJson[];
  }
}

function isMissing(stderr: string): boolean {
  return /does not exist|not found|no such file or directory|container .* not exist/i.test(stderr);
}

/**
 * The fast path of `crun start`: a created container's init blocks reading
 * <root>/<id>/exec.fifo; `crun start` opens it for writing, unlinks it and writes
 * one byte (crun's libcrun_status_write_exec_fifo, unchanged from 1.8 to today;
 * runc uses the opposite direction, so this is crun-only). Exec'ing crun costs
 * 25-50 ms on our hosts, most of a start. Anything unexpected returns false and
 * the caller runs `crun start`, which reports the real error.
 */
export function startThroughExecFifo(runtimeRoot: string, id: string): boolean {
  // Synchronous: none of these calls can block (O_NONBLOCK), and five thread-pool
  // round trips would add more than a millisecond to every start.
  const fifo = join(runtimeRoot, id, "exec.fifo");
  let fd;
  try {
    // O_NONBLOCK: fail with ENXIO instead of hanging when init is no longer reading.
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isFIFO()) return false;
    unlinkSync(fifo); // crun reports "running" once the fifo is gone
    writeSync(fd, Buffer.from([0]));
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
