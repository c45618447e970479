/**
 * One sandbox env (sandbox-env.ts) shared by every test of a file, with its
 * tenants created. Call it at the top level of a test file: it registers
 * `before`/`after`, and `env` may be read once `before` has run. `close()`
 * still checks that nothing was left on the host.
 */
import { after, before } from "node:test";
import { startSandboxEnv, type SandboxEnv } from "./sandbox-env.js";
import type { TestServerOptions } from "./server.js";

export interface SandboxEnvForFile {
  readonly env: SandboxEnv;
}

export function sandboxEnvForFile(tenants: string[], options: TestServerOptions = {}): SandboxEnvForFile {
  let env: SandboxEnv | undefined;
  before(async () => {
    env = await startSandboxEnv(options);
    for (const t of tenants) await env.tenant(t);
  });
  after(async () => {
    await env?.close();
  });
  return {
    get env() {
      if (!env) throw new Error("sandboxEnvForFile: env read before the before hook ran");
      return env;
    },
  };
}
