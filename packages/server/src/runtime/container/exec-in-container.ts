// runtime/container/exec-in-container.ts — a new process inside a running
// container: `<runtime> exec` with our --root, as a child of the server with
// plain pipes. The runtime joins the container's namespaces and cgroup, so the
// process gets the same isolation and limits as the main one; its exit code is
// the runtime's. Started through @nimbus/native (posix_spawn on a pool thread),
// like every other helper: child_process would fork the whole server first,
// stalling the event loop for each exec.

import { closeSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { loadNative } from "@nimbus/native";
import type { ExecHandle, ExecSpec } from "../backend.js";
import { reapChild } from "./exec.js";

/**
 * Killing the runtime's `exec` process does not kill what it started inside
 * the container (and that process keeps our pipes open), so the runtime
 * writes the process's host pid to `pidFile` and kill() signals it directly.
 */
export function execInContainer(runtimePath: string, globalArgs: string[], id: string, spec: ExecSpec, pidFile: string): ExecHandle {
  const args = [...globalArgs, "exec", "--pid-file", pidFile, "--cwd", spec.cwd, "--user", `${spec.user.uid}:${spec.user.gid}`];
  for (const e of spec.env) args.push("--env", e);
  args.push(id, ...spec.args);
  const native = loadNative();
  const [inRead, inWrite] = native.pipe();
  const [outRead, outWrite] = native.pipe();
  const [errRead, errWrite] = native.pipe();
  const childEnds = [inRead, outWrite, errWrite];
  const stdin = new Socket({ fd: inWrite, readable: false, writable: true });
  const stdout = new Socket({ fd: outRead, readable: true, writable: false });
  const stderr = new Socket({ fd: errRead, readable: true, writable: false });
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  const spawned = native.spawnAsync(runtimePath, [runtimePath, ...args], env, "/", childEnds, false).finally(() => childEnds.forEach((fd) => closeSync(fd)));
  let pid: number | undefined;
  let killOnSpawn: NodeJS.Signals | undefined; // kill() came before the spawn finished
  const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once("close", () => resolve())));
  // Like child_process's "close": the code comes once the process has exited and
  // its output is all read, so a caller that awaits it has seen every byte.
  const exited = spawned
    .then(
      async (p) => {
        pid = p;
        if (killOnSpawn) signalQuietly(p, killOnSpawn);
        await Promise.all([closed(stdout), closed(stderr)]);
        const status = await reapChild(p);
        if (!status) return 1;
        return status.exitCode ?? 128 + (status.signal ?? 0);
      },
      () => {
        for (const s of [stdin, stdout, stderr]) s.destroy();
        return 127;
      },
    )
    .finally(() => rmSync(pidFile, { force: true }));
  return {
    stdin,
    stdout,
    stderr,
    exited,
    kill: (signal = "SIGKILL") => {
      if (pid === undefined) killOnSpawn = signal;
      for (const target of [readPid(pidFile), pid]) if (target) signalQuietly(target, signal);
    },
  };
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

function readPid(path: string): number | undefined {
  try {
    return Number(readFileSync(path, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}
