// runtime/container/exec-in-container.ts — a new process inside a running
// container: `<runtime> exec --process <file>` with our --root, as a child of
// the server with plain pipes. The file is the full OCI process object built
// like the main process's (bundle.ts ociProcess: no_new_privs, the same
// capabilities and rlimits); the runtime joins the container's namespaces and
// cgroup and applies its seccomp filter, so the process gets the same isolation
// and limits as the main one; its exit code is the runtime's. argv and env
// travel in that file (0600, in the 0700 bundle dir, removed as soon as the
// runtime has started the process), never on the runtime's command line, which
// every local user can read in /proc. Started through @nimbus/native (posix_spawn on a pool thread),
// like every other helper: child_process would fork the whole server first,
// stalling the event loop for each exec.

import { closeSync, rmSync, writeFileSync } from "node:fs";
import { access, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { loadNative } from "@nimbus/native";
import type { ExecHandle, ExecSpec } from "../backend.js";
import { ociProcess } from "./bundle.js";
import { reapChild } from "./exec.js";
import { foreignGroupOf } from "./process-group.js";
import { killQuietly, readPidFile } from "./pid-files.js";

/** How often to look for the runtime's pid file, the sign it has read the process file. */
const STARTED_POLL_MS = 10;

export interface ExecFiles {
  /** Where the runtime writes the process's host pid. */
  pidFile: string;
  /** Where the OCI process object goes; its dir must be 0700 (the bundle dir). */
  processFile: string;
}

/**
 * Killing the runtime's `exec` process alone does not kill what it started
 * inside the container (and that process, or a child it forked, keeps our
 * pipes open), so kill() signals the runtime's process group, and the
 * process's host pid (which the runtime writes to `pidFile`) with the new
 * session's group the runtime put it in, so its background children go too.
 */
export function execInContainer(runtimePath: string, globalArgs: string[], id: string, spec: ExecSpec, files: ExecFiles): ExecHandle {
  const { pidFile, processFile } = files;
  const args = [...globalArgs, "exec", "--pid-file", pidFile, "--process", processFile, id];
  const processJson = JSON.stringify(ociProcess({ args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user, terminal: false }));
  const native = loadNative();
  const [inRead, inWrite] = native.pipe();
  const [outRead, outWrite] = native.pipe();
  const [errRead, errWrite] = native.pipe();
  const childEnds = [inRead, outWrite, errWrite];
  const stdin = new Socket({ fd: inWrite, readable: false, writable: true });
  const stdout = new Socket({ fd: outRead, readable: true, writable: false });
  const stderr = new Socket({ fd: errRead, readable: true, writable: false });
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  // "wx": a fresh file of ours, never one that someone placed there before us.
  // Written synchronously (a few hundred bytes into the page cache): the
  // promise form costs three thread-pool round trips (open, write, close),
  // which bench/processes measured at ~7 ms p50 of a ~25 ms overhead per exec
  // on a loaded host, for no gain. The file is in place when this returns; a
  // failure rejects `spawned` as before.
  let written: Promise<void>;
  try {
    writeFileSync(processFile, processJson, { mode: 0o600, flag: "wx" });
    written = Promise.resolve();
  } catch (err) {
    written = Promise.reject(err as Error);
  }
  const spawned = written
    // setsid: the runtime and the process it starts (which stays in the runtime's
    // group) form a process group of their own, so kill() reaches anything the
    // process forked too, and a signal to the server's group does not reach them.
    .then(() => native.spawnAsync(runtimePath, [runtimePath, ...args], env, "/", childEnds, true))
    .finally(() => childEnds.forEach((fd) => closeSync(fd)));
  let finished = false;
  spawned.then(
    () => removeOnceStarted(processFile, pidFile, () => finished),
    () => undefined,
  );
  let pid: number | undefined;
  let killOnSpawn: NodeJS.Signals | undefined; // kill() came before the spawn finished
  const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once("close", () => resolve())));
  // Like child_process's "close": the code comes once the process has exited and
  // its output is all read, so a caller that awaits it has seen every byte.
  const exited = spawned
    .then(
      async (p) => {
        pid = p;
        if (killOnSpawn) killQuietly(-p, killOnSpawn);
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
    .finally(() => {
      finished = true;
      rmSync(pidFile, { force: true });
      rmSync(processFile, { force: true });
    });
  return {
    stdin,
    stdout,
    stderr,
    exited,
    kill: (signal = "SIGKILL") => {
      if (pid === undefined) killOnSpawn = signal;
      // The whole group (the runtime's, see the spawn), then the process itself in case it left it.
      if (pid !== undefined) killQuietly(-pid, signal);
      const inner = readPidFile(pidFile);
      if (inner) {
        // The runtime starts the process in a new session; what it forks stays there.
        const group = foreignGroupOf(inner);
        if (group !== undefined) killQuietly(-group, signal);
        killQuietly(inner, signal);
      }
    },
  };
}

/**
 * The runtime reads the process file before it starts the process and writes
 * the pid file after, so the file (argv and env) is removed once the pid file
 * exists, or at the latest when the exec ends.
 */
async function removeOnceStarted(processFile: string, pidFile: string, finished: () => boolean): Promise<void> {
  while (!finished()) {
    const started = await access(pidFile).then(
      () => true,
      () => false,
    );
    if (started) break;
    await new Promise((resolve) => setTimeout(resolve, STARTED_POLL_MS));
  }
  await rm(processFile, { force: true });
}
