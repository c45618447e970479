/**
 * What a CLI test of sandboxes needs: Debian's docker-registry with the
 * busybox fixture as docker.io/library/busybox, a `nimbus start` child that
 * reaches it through --registry-mirror (so the image reference `busybox`
 * works), a private HOME/XDG dir and one tenant made with the CLI.
 * `close()` deletes the tenant (and with it every sandbox and session),
 * stops the server and the registry and removes the temp dir.
 * `useCliWorld()` is the preamble of a test file: one world for its tests.
 */
import { after, before } from "node:test";
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
  /** `sandbox create busybox --wait -- ARGV`: the id of the new, ready sandbox. */
  createReady(argv: string[]): Promise<string>;
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
    async createReady(argv) {
      const r = await nimbus("sandbox", "create", "busybox", "--wait", "--", ...argv);
      if (r.code !== 0) throw new Error(`sandbox create: exit ${r.code}: ${r.stderr}`);
      return r.stdout.trim();
    },
    close,
  };
}

/**
 * One CliWorld for the tests of a file: registers node:test hooks that start
 * it (then run `setup` on it) before the first test and close it after the
 * last. The returned handle stands for the world once it started (reading it
 * earlier is an error). Setup that needs the world goes in `setup`, not in a
 * `before` of its own: Node 20 runs a file's top-level `before` hooks at once.
 */
export function useCliWorld(tenant: string, setup?: (world: CliWorld) => Promise<void>): CliWorld {
  let world: CliWorld | undefined;
  before(async () => {
    world = await startCliWorld(tenant);
    await setup?.(world);
  });
  after(async () => {
    await world?.close();
  });
  const started = (): CliWorld => {
    if (!world) throw new Error(`the CLI world of ${tenant} is used before it started (read it inside tests or hooks)`);
    return world;
  };
  return {
    tenant,
    get env() {
      return started().env;
    },
    get server() {
      return started().server;
    },
    get registry() {
      return started().registry;
    },
    nimbus: (...args) => started().nimbus(...args),
    waitForState: (id, states, timeoutMs) => started().waitForState(id, states, timeoutMs),
    createReady: (argv) => started().createReady(argv),
    close: async () => {
      await world?.close();
      world = undefined;
    },
  };
}
