/**
 * Drive the built `nimbus` binary as a user would: one-shot commands, and a
 * long-running `nimbus start` child that tests can signal or kill -9.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDiscovery } from "../host/discovery.js";
import { discoveryFilePath } from "../host/paths.js";

export const NIMBUS_BIN = fileURLToPath(new URL("../../bin/nimbus.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNimbus(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NIMBUS_BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** The ids (`metadata.id`) of the items a `… ls --json` printed, in its order. */
export function listedIds(r: CliResult): string[] {
  return (JSON.parse(r.stdout) as Array<{ metadata: { id: string } }>).map((item) => item.metadata.id);
}

/** A private HOME/XDG_DATA_HOME so the token and discovery file are the test's own. */
export function isolatedEnv(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(root, "home"), XDG_DATA_HOME: join(root, "xdg"), ...extra };
  for (const k of [
    "NIMBUS_ENDPOINT",
    "NIMBUS_TOKEN",
    "NIMBUS_BEARER_TOKEN",
    "NIMBUS_API_KEY",
    "NIMBUS_TENANT_ID",
    "NIMBUS_TENANT",
    "NIMBUS_APPLICATION_CREDENTIALS",
    "NIMBUS_PORT",
    "NIMBUS_DATA_DIR",
  ]) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

export function makeTempRoot(prefix = "nimbus-e2e-"): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface ServerProcess {
  child: ChildProcess;
  address: string;
  output(): string;
  /** Send a signal and wait for the process to exit; returns its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Servers a failed test did not stop are killed when the test process exits. */
const liveServers = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of liveServers) c.kill("SIGKILL");
});

export async function spawnServer(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<ServerProcess> {
  const portArgs = args.includes("--port") ? [] : ["--port", "0"];
  const child = spawn(process.execPath, [NIMBUS_BIN, "start", ...portArgs, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  liveServers.add(child);
  child.once("exit", () => liveServers.delete(child));
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = readDiscovery(discoveryFilePath(env));
    if (rec && rec.pid === child.pid) {
      return {
        child,
        address: rec.address,
        output: () => out,
        async stop(signal = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`nimbus start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nimbus start did not come up within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
