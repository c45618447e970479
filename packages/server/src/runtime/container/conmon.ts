// runtime/container/conmon.ts — spawning conmon, the monitor that parents each container.
// Owns conmon's command line and its sync pipe (conmon-report.ts): conmon (in its own session, so
// it outlives the server) runs `<runtime> create` and writes one JSON line
// `{"data": <pid>}` (or `{"data": -1, "message": "..."}`) to the fd named by
// _OCI_SYNCPIPE. It parses its options and opens its log (in the bundle, which must
// exist) and then waits on _OCI_STARTPIPE, which lets us spawn it while the root is
// still being mounted. After that it holds stdio, writes the k8s-file log, records the
// exit code in <exit-dir>/<id> and serves the attach socket. It runs with --sync, so
// it stays the server's child: the server writes its pid file and reaps it.

import { writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { Socket } from "node:net";
import { loadNative } from "@nimbus/native";
import { reapChild } from "./exec.js";
import type { StateLayout } from "./layout.js";
import { onConmonReport } from "./conmon-report.js";
import { closeQuietly, killQuietly, livePid, readPidFile } from "./pid-files.js";

export interface ConmonOptions {
  conmonPath: string;
  runtimePath: string;
  /** Global runtime flags, e.g. --root=<dir>, and for runsc --platform=ptrace. */
  runtimeArgs: string[];
  logSizeMaxBytes: number;
  terminal: boolean;
  /** Without --leave-stdin-open: the first attach connection to end closes stdin (the stdin relay's, stdin-relay.ts). */
  closableStdin?: boolean;
}

export function conmonArgs(id: string, layout: StateLayout, o: ConmonOptions): string[] {
  const args = [
    "--api-version",
    "1",
    "-c",
    id,
    "-u",
    id,
    "-n",
    id,
    "-r",
    o.runtimePath,
    "-b",
    layout.bundle(id),
    "-p",
    layout.containerPidFile(id),
    "-l",
    `k8s-file:${layout.log(id)}`,
    "--log-size-max",
    String(o.logSizeMaxBytes),
    // conmon fsyncs the log each time it replaces a full one (every --log-size-max bytes) and
    // at exit; single-threaded, it stops all of the container's output meanwhile (~20 ms per
    // 10 MiB here). The log is a replay buffer for a sandbox that a host crash ends anyway;
    // the kernel still writes it back on its own.
    "--no-sync-log",
    "--exit-dir",
    layout.exitsDir,
    "--persist-dir",
    layout.bundle(id),
    "--socket-dir-path",
    layout.socketsDir,
    // stdin is a pipe held by conmon, so a later session can write through the attach socket,
    // and it stays open when that session detaches or the server restarts. The price: conmon
    // has no other way to close it, so stdin EOF cannot be delivered (attach.ts says why),
    // except with closableStdin, where a relay is the one attach client (stdin-relay.ts).
    "-i",
    "--log-level",
    "error",
    // No daemonising fork: conmon stays the process we spawned (in its own session,
    // so it still outlives the server). The fork, and the exit of the process that
    // made it, cost ~5 ms of CPU per sandbox on this kind of VM (page tables are
    // expensive to copy and tear down), on the start path. conmon then leaves its
    // pid file to us (launchConmon writes it) and the server reaps it at delete.
    "--sync",
  ];
  if (!o.closableStdin) args.push("--leave-stdin-open");
  if (o.terminal) args.push("-t");
  for (const a of o.runtimeArgs) args.push("--runtime-arg", a);
  return args;
}

export interface ConmonLaunch {
  /** Resolves with the container's pid once `<runtime> create` succeeded; rejects with the runtime's message. */
  readonly containerPid: Promise<number>;
  /**
   * Lets conmon go on to run `<runtime> create` once `step` (making the rootfs;
   * config.json must be written already) succeeded. Runs `step` with the start pipe's fd (-1 once conmon is gone); on success
   * `step` itself has written the start byte (mountOverlay's signalFd does, from
   * the pool thread that mounted the root), so conmon is released without a
   * trip through a busy event loop. The fd stays open until `step` settles.
   */
  releaseAfter(step: (startFd: number) => Promise<void>): Promise<void>;
  /** Kills a conmon still waiting for release (e.g. the overlay mount failed). */
  abort(): void;
}

/**
 * Starts conmon at once, held on its start pipe (_OCI_STARTPIPE) until releaseAfter()
 * so conmon's own exec overlaps with mounting the root and writing the bundle.
 * Spawned through @nimbus/native (vfork-style, on a pool thread): libuv's fork of
 * the whole server blocked the event loop for 5-80 ms per sandbox, which
 * serialised bursts of creates, and even a vfork holds its caller until the
 * child is scheduled and has exec'd.
 */
export function launchConmon(id: string, layout: StateLayout, o: ConmonOptions, timeoutMs = 60_000): ConmonLaunch {
  const native = loadNative();
  const pipes: number[] = [];
  const newPipe = () => {
    const p = native.pipe();
    pipes.push(...p);
    return p;
  };
  let syncRead: number, errRead: number, startWrite: number;
  let spawned: Promise<number>;
  try {
    const [sr, sw] = newPipe();
    const [er, ew] = newPipe();
    const [str, stw] = newPipe();
    [syncRead, errRead, startWrite] = [sr, er, stw];
    const env = Object.entries({ ...process.env, _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4" }).map(([k, v]) => `${k}=${v}`);
    // fd 3 is the sync pipe, fd 4 the start pipe; conmon reads their numbers from the
    // environment. setsid: a signal to the server's process group never reaches it.
    spawned = native.spawnAsync(o.conmonPath, [o.conmonPath, ...conmonArgs(id, layout, o)], env, layout.bundle(id), [-1, -1, ew, sw, str], true);
    // Our copies of conmon's ends close once it has them (or the spawn failed).
    void spawned.then(
      () => [sw, ew, str].forEach(closeQuietly),
      () => [sw, ew, str].forEach(closeQuietly),
    );
  } catch (err) {
    for (const fd of pipes) closeQuietly(fd);
    throw err;
  }
  let pid: number | undefined;
  const sync = new Socket({ fd: syncRead, readable: true, writable: false });
  const stderr = new Socket({ fd: errRead, readable: true, writable: false });
  let startPipe: number | undefined = startWrite;
  let startPipeLent = false; // a pool thread may write to it: closing now could hit a reused fd
  let closeWhenReturned = false;
  const closeStartPipe = () => {
    if (startPipeLent) {
      closeWhenReturned = true;
      return;
    }
    if (startPipe !== undefined) closeQuietly(startPipe);
    startPipe = undefined;
  };
  let released = false;
  let aborted = false;
  const containerPid = new Promise<number>((resolve, reject) => {
    let errText = "";
    let settled = false;
    const finish = (err: Error | undefined, containerPid?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      stderr.destroy();
      closeStartPipe();
      // A conmon that failed exits now; a working one is reaped when its container is deleted.
      if (err)
        void spawned.then(
          (p) => reapConmon(p),
          () => undefined,
        );
      if (err) reject(err);
      else resolve(containerPid!);
    };
    const timer = setTimeout(() => finish(new Error(`conmon did not report within ${timeoutMs} ms`)), timeoutMs);
    stderr.on("data", (b: Buffer) => (errText += b.toString("utf8")));
    onConmonReport(
      sync,
      (msg) => `conmon reported ${JSON.stringify(msg)}`,
      (r) => ("pid" in r ? finish(undefined, r.pid) : finish(new Error(r.error, { cause: r.cause }))),
    );
    sync.on("error", () => undefined);
    stderr.on("error", () => undefined);
    spawned.then(
      (p) => {
        pid = p;
        ourConmons.add(p);
        if (aborted) killQuietly(p);
        // With --sync conmon writes no pid file (-P is only for its fork); cleanup and wait() read ours.
        else writeFile(layout.conmonPidFile(id), String(p)).catch(() => undefined);
      },
      (err: Error) => finish(new Error(`could not start conmon: ${err.message}`, { cause: err })),
    );
    // The first conmon process exits right after forking; only the sync pipe
    // closing without a message means the daemon died before reporting.
    sync.on("close", () => finish(new Error(errText.trim() || "conmon exited without reporting the container pid")));
  });
  return {
    containerPid,
    async releaseAfter(step) {
      if (released || startPipe === undefined) return step(-1);
      startPipeLent = true;
      try {
        await step(startPipe);
        released = true;
      } finally {
        startPipeLent = false;
        if (released || closeWhenReturned) closeStartPipe();
      }
    },
    abort() {
      // Before release conmon has not forked yet, so its pid is the whole of it
      // (killed as soon as the spawn reports it, if it has not yet).
      if (released) return;
      released = aborted = true;
      if (pid !== undefined) killQuietly(pid);
      closeStartPipe();
    },
  };
}

/** conmons this process spawned and has not reaped (with --sync each one is our child until it exits). */
const ourConmons = new Set<number>();

/**
 * Collects the exit status of a conmon this process spawned, once it exits, so
 * it does not linger as a zombie. Only pids from our own set: a pid read from a
 * file may belong to a conmon of an earlier server (not our child) or, reused,
 * to another of our children, whose status is not ours to take.
 */
export function reapConmon(pid: number): void {
  if (!ourConmons.delete(pid)) return;
  void reapChild(pid, { giveUpMs: 60_000, unref: true });
}

/** The pid in conmon's pid file, whether or not it still runs. */
export const recordedConmonPid = readPidFile;

/**
 * The pid of the conmon named in the pid file while it runs (a zombie has no
 * cmdline, so it does not count) and is this container's: the pid file sits in
 * the bundle, named by the container id, which conmon was given (`-c`, `-u`,
 * `-n`). A pid reused by another container's conmon is not ours to kill. The
 * id, not the path: a server restarted on another spelling of the same data
 * dir still knows its conmons.
 */
export function liveConmonPid(pidFile: string): number | undefined {
  return livePid(pidFile, "conmon", basename(dirname(pidFile)));
}
