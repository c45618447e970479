/**
 * Runs `examples/<dir>/main.mjs` with Node against a test server, the way a
 * user would after `npm install` (the workspace's @nimbus/nimbus resolves).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const EXAMPLES_DIR = fileURLToPath(new URL("../../../../examples/", import.meta.url));

/** Its exit code and output; `vars` are added to the environment (endpoint, token, tenant, IMAGE). */
export function runExample(dir: string, vars: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["main.mjs"], { cwd: EXAMPLES_DIR + dir, env: { ...process.env, ...vars }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}
