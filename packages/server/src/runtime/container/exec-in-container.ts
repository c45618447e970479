// runtime/container/exec-in-container.ts — a new process inside a running
// container: `<runtime> exec` with our --root, as a child of the server with
// plain pipes. The runtime joins the container's namespaces and cgroup, so the
// process gets the same isolation and limits as the main one; its exit code is
// the runtime's.

import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import type { ExecHandle, ExecSpec } from "../backend.js";

/**
 * Killing the runtime's `exec` process does not kill what it started inside
 * the container (and that process keeps our pipes open), so the runtime
 * writes the process's host pid to `pidFile` and kill() signals it directly.
 */
export function execInContainer(runtimePath: string, globalArgs: string[], id: string, spec: ExecSpec, pidFile: string): ExecHandle {
  const args = [...globalArgs, "exec", "--pid-file", pidFile, "--cwd", spec.cwd, "--user", `${spec.user.uid}:${spec.user.gid}`];
  for (const e of spec.env) args.push("--env", e);
  args.push(id, ...spec.args);
  const child = spawn(runtimePath, args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<number>((resolve) => {
    child.once("error", () => resolve(127));
    child.once("close", (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1)));
  }).finally(() => rmSync(pidFile, { force: true }));
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill: (signal = "SIGKILL") => {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8").trim()), signal);
      } catch {
        /* not started yet, or already gone */
      }
      child.kill(signal);
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[signal];
}
