/**
 * What a CLI test of sandboxes needs: Debian's docker-registry with the
 * busybox fixture as docker.io/library/busybox, a `nimbus start` child that
 * reaches it through --registry-mirror (so the image reference `busybox`
 * works), a private HOME/XDG dir and one tenant made with the CLI.
 * `close()` deletes the tenant (and with it every sandbox and session),
 * stops the server and the registry and removes the temp dir.
 */
import { join } from "node:path";
import { buildBusyboxImage, FIXTURE_TAG, pushFixture } from "./fixtures.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer, type CliResult, type ServerProcess } from "./cli.js";

export interface CliWorld {
  env: NodeJS.ProcessEnv;
  tenant: string;
  server: ServerProcess;
  registry: TestRegistry;
  /** Runs `nimbus ARGS` in the world's env (the tenant comes from NIMBUS_TENANT_ID). */
  nimbus(...args: string[]): Promise<CliResult>;
  /** Polls `sandbox get --json` until the sandbox is in one of `states`. */
  waitForState(id: string, states: string[], timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function startCliWorld(tenant: string): Promise<CliWorld> {
  const tmp = makeTempRoot("nimbus-cli-");
  const registry = await startRegistry();
  let server: ServerProcess | undefined;
  const env = isolatedEnv(tmp.root, { NIMBUS_TENANT_ID: tenant });
  const close = async () => {
    try {
      if (server) {
        await runNimbus(["tenant", "rm", tenant], env);
        await server.stop();
      }
    } finally {
      await registry.stop();
      tmp.cleanup();
    }
  };
  try {
    pushFixture(registry.backendHost, await buildBusyboxImage(), "library/busybox", FIXTURE_TAG);
    server = await spawnServer(["--data-dir", join(tmp.root, "data"), "--registry-mirror", `docker.io=${registry.url}`], env);
    const made = await runNimbus(["tenant", "create", tenant], env);
    if (made.code !== 0) throw new Error(`tenant create: ${made.stderr}`);
  } catch (err) {
    await close();
    throw err;
  }
  const nimbus = (...args: string[]) => runNimbus(args, env);
  return {
    env,
    tenant,
    server,
    registry,
    nimbus,
    async waitForState(id, states, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await nimbus("sandbox", "get", id, "--json");
        if (r.code !== 0) throw new Error(`sandbox get ${id}: ${r.stderr}`);
        const s = JSON.parse(r.stdout);
        if (states.includes(s.status.lifecycleState)) return s;
        if (Date.now() > deadline) throw new Error(`sandbox ${id} is ${s.status.lifecycleState}, not ${states.join("|")}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
    close,
  };
}
