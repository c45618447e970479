// runtime/container/exec.ts — finding and running short-lived host commands (crun, runc).
// Owns the one place that spawns helpers with captured output and a timeout (the
// child never inherits our pipes beyond its own lifetime; stdin is /dev/null), and
// the binary search path, which includes the sbin dirs a non-login root shell may
// lack (Debian puts runc there).

import { accessSync, closeSync, constants as fsConstants } from "node:fs";
import { Socket } from "node:net";
import { constants } from "node:os";
import { join } from "node:path";
import { loadNative, type ReapedStatus } from "@nimbus/native";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  cwd?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `file args...`, resolving with the exit code and output (never rejects on
 * non-zero; rejects when the program cannot be started). Spawned through
 * @nimbus/native on a pool thread: child_process forks the whole server with the
 * event loop stopped, which under container churn (a crun kill and a crun delete
 * per stop) stalled the loop for up to a second at a time.
 */
export async function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const native = loadNative();
  const path = file.includes("/") ? file : findBinary(file);
  if (!path) throw Object.assign(new Error(`spawn ${file} ENOENT: not found on PATH`), { code: "ENOENT" });
  const env = Object.entries(options.env ?? process.env).map(([k, v]) => `${k}=${v}`);
  const [outRead, outWrite] = native.pipe();
  const [errRead, errWrite] = native.pipe();
  let pid: number;
  try {
    pid = await native.spawnAsync(path, [file, ...args], env, options.cwd ?? process.cwd(), [-1, outWrite, errWrite], false);
  } catch (err) {
    [outRead, errRead].forEach((fd) => closeSync(fd));
    throw err;
  } finally {
    [outWrite, errWrite].forEach((fd) => closeSync(fd));
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 30_000);
  const [stdout, stderr] = await Promise.all([outRead, errRead].map(readAll));
  // Both pipes closed: the program has exited (or is about to); reap it.
  const status = (await reapChild(pid)) ?? { exitCode: 127, signal: null };
  clearTimeout(timer);
  const signal = status.signal === null ? undefined : (signalName(status.signal) ?? `signal ${status.signal}`);
  return {
    code: status.exitCode ?? 128 + (status.signal ?? 0),
    stdout: stdout!,
    stderr: stderr! + (signal ? `\n(killed by ${signal}${timedOut ? " after the timeout" : ""})` : ""),
  };
}

/**
 * Reaps `pid`, a child we spawned through @nimbus/native, once it has exited:
 * libuv only waits for the children it started itself, so this polls
 * waitpid(WNOHANG) with a growing pause (1 ms up to 50 ms). undefined when it is
 * not (or no longer) our child, or has not exited within `giveUpMs`. `unref`
 * lets the process exit meanwhile (for children nobody awaits).
 */
export async function reapChild(pid: number, opts: { giveUpMs?: number; unref?: boolean } = {}): Promise<ReapedStatus | undefined> {
  const native = loadNative();
  const deadline = Date.now() + (opts.giveUpMs ?? Infinity);
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 50)) {
    let status: ReapedStatus | null;
    try {
      status = native.reap(pid);
    } catch {
      return undefined; // ECHILD
    }
    if (status) return status;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => {
      const t = setTimeout(r, waitMs);
      if (opts.unref) t.unref();
    });
  }
}

/** Everything written to a pipe until its last writer closes it, as UTF-8. */
function readAll(fd: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = new Socket({ fd, readable: true, writable: false });
    sock.on("data", (b: Buffer) => chunks.push(b));
    sock.on("error", () => undefined);
    sock.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function signalName(n: number): string | undefined {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
}

/** Like runCommand but throws with the command's stderr when it exits non-zero. */
export async function runChecked(file: string, args: string[], options: CommandOptions = {}): Promise<string> {
  const r = await runCommand(file, args, options);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

const EXTRA_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/libexec/podman"];

/** Absolute path of an executable named `name`, or undefined. A path is checked as is. */
export function findBinary(name: string, pathEnv = process.env.PATH ?? ""): string | undefined {
  const candidates = name.includes("/") ? [name] : [...pathEnv.split(":").filter(Boolean), ...EXTRA_DIRS].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
