// runtime/container/conmon.ts — spawning conmon, the monitor that parents each container.
// Owns conmon's command line and its sync-pipe protocol: conmon forks into its own
// session (so it outlives the server), runs `<runtime> create`, and writes one JSON
// line `{"data": <pid>}` (or `{"data": -1, "message": "..."}`) to the fd named by
// _OCI_SYNCPIPE. It waits on _OCI_STARTPIPE before doing anything, which lets us
// spawn it while the root is still being mounted. After that it holds stdio, writes the k8s-file log, records the
// exit code in <exit-dir>/<id> and serves the attach socket.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import type { StateLayout } from "./layout.js";

export interface ConmonOptions {
  conmonPath: string;
  runtimePath: string;
  /** Global runtime flags, e.g. --root=<dir>, and for runsc --platform=ptrace. */
  runtimeArgs: string[];
  logSizeMaxBytes: number;
  terminal: boolean;
}

export function conmonArgs(id: string, layout: StateLayout, o: ConmonOptions): string[] {
  const args = [
    "--api-version", "1",
    "-c", id,
    "-u", id,
    "-n", id,
    "-r", o.runtimePath,
    "-b", layout.bundle(id),
    "-p", layout.containerPidFile(id),
    "-P", layout.conmonPidFile(id),
    "-l", `k8s-file:${layout.log(id)}`,
    "--log-size-max", String(o.logSizeMaxBytes),
    "--exit-dir", layout.exitsDir,
    "--persist-dir", layout.bundle(id),
    "--socket-dir-path", layout.socketsDir,
    // stdin is a pipe held by conmon, so a later session can write through the attach socket,
    // and it stays open when that session detaches.
    "-i",
    "--leave-stdin-open",
    "--log-level", "error",
  ];
  if (o.terminal) args.push("-t");
  for (const a of o.runtimeArgs) args.push("--runtime-arg", a);
  return args;
}

export interface ConmonLaunch {
  /** Resolves with the container's pid once `<runtime> create` succeeded; rejects with the runtime's message. */
  readonly containerPid: Promise<number>;
  /** Lets conmon go on to run `<runtime> create` (the rootfs and config.json must be ready). */
  release(): void;
  /** Kills a conmon still waiting for release (e.g. the overlay mount failed). */
  abort(): void;
}

/**
 * Starts conmon at once, held on its start pipe (_OCI_STARTPIPE) until release(),
 * so conmon's own exec overlaps with mounting the root and writing the bundle.
 */
export function launchConmon(id: string, layout: StateLayout, o: ConmonOptions, timeoutMs = 60_000): ConmonLaunch {
  const child = spawn(o.conmonPath, conmonArgs(id, layout, o), {
    // fd 3 is the sync pipe, fd 4 the start pipe; conmon reads their numbers from the environment.
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
    env: { ...process.env, _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4" },
    detached: true, // own process group: a signal to the server's group never reaches it
    cwd: layout.bundle(id),
  });
  child.unref();
  const sync = child.stdio[3] as Readable;
  const startPipe = child.stdio[4] as Writable;
  const stderr = child.stderr!;
  startPipe.on("error", () => undefined);
  let released = false;
  const containerPid = new Promise<number>((resolve, reject) => {
    let buffered = "";
    let errText = "";
    let settled = false;
    const finish = (err: Error | undefined, pid?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      stderr.destroy();
      startPipe.destroy();
      if (err) reject(err);
      else resolve(pid!);
    };
    const timer = setTimeout(() => finish(new Error(`conmon did not report within ${timeoutMs} ms`)), timeoutMs);
    stderr.on("data", (b: Buffer) => (errText += b.toString("utf8")));
    sync.on("data", (b: Buffer) => {
      buffered += b.toString("utf8");
      const nl = buffered.indexOf("\n");
      if (nl < 0) return;
      try {
        const msg = JSON.parse(buffered.slice(0, nl)) as { data?: number; message?: string };
        if (typeof msg.data === "number" && msg.data > 0) finish(undefined, msg.data);
        else finish(new Error(msg.message?.trim() || `conmon reported ${JSON.stringify(msg)}`));
      } catch (e) {
        finish(new Error(`unreadable message from conmon: ${buffered.slice(0, nl)}`, { cause: e }));
      }
    });
    sync.on("error", () => undefined);
    stderr.on("error", () => undefined);
    child.on("error", (e) => finish(e));
    // The first conmon process exits right after forking; only the sync pipe
    // closing without a message means the daemon died before reporting.
    sync.on("close", () => finish(new Error(errText.trim() || "conmon exited without reporting the container pid")));
  });
  return {
    containerPid,
    release() {
      released = true;
      startPipe.end("0");
    },
    abort() {
      // Before release conmon has not forked yet, so child.pid is the whole of it.
      if (!released && child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** conmon's pid from its pidfile, if that process is still a conmon. */
export function liveConmonPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.split("\0")[0]?.endsWith("conmon") ? pid : undefined;
  } catch {
    return undefined;
  }
}
