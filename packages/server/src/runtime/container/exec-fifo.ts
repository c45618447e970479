// runtime/container/exec-fifo.ts — starting a crun container without exec'ing crun.
// Owns the fast path of `crun start`: a created container's init blocks reading
// <root>/<id>/exec.fifo; `crun start` opens it for writing, unlinks it and writes
// one byte (crun's libcrun_status_write_exec_fifo, unchanged from 1.8 to today;
// runc uses the opposite direction, so this is crun-only). Exec'ing crun costs
// 25-50 ms on our hosts, most of a start. Anything unexpected returns false and
// the caller runs `crun start`, which reports the real error.

import { constants } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { join } from "node:path";

export async function startThroughExecFifo(runtimeRoot: string, id: string): Promise<boolean> {
  const fifo = join(runtimeRoot, id, "exec.fifo");
  let fh;
  try {
    // O_NONBLOCK: fail with ENXIO instead of hanging when init is no longer reading.
    fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!(await fh.stat()).isFIFO()) return false;
    await unlink(fifo); // crun reports "running" once the fifo is gone
    await fh.write(Buffer.from([0]));
    return true;
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}
