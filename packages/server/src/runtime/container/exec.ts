// runtime/container/exec.ts — finding and running short-lived host commands (crun, mount).
// Owns the one place that spawns helpers with captured output and a timeout (the
// child never inherits our pipes beyond its own lifetime; stdin is /dev/null), and
// the binary search path, which includes the sbin dirs a non-login root shell may
// lack (Debian puts runc there).

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

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

/** Runs `file args...`, resolving with the exit code and output (never rejects on non-zero). */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 30_000,
      killSignal: "SIGKILL",
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + (signal ? `\n(killed by ${signal})` : ""),
      });
    });
  });
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
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
