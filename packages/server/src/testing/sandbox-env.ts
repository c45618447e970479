/**
 * The world a sandbox test needs: Debian's docker-registry on loopback with
 * the busybox fixture pushed as docker.io/library/busybox (reached through
 * --registry-mirror), and an in-process server with the real crun + conmon
 * runtime. `close()` deletes every sandbox, stops both and checks nothing
 * was left on the host.
 */
import { buildBusyboxImage, pushFixture, FIXTURE_TAG } from "./fixtures.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./server.js";
import { join } from "node:path";
import { assertNoLeftovers } from "../runtime/leak-check.js";
import { purgeRuntime } from "./purge.js";

export const BUSYBOX = "docker.io/library/busybox:latest";

/** What a test may vary in a busybox sandbox's create body. */
export interface BusyboxSandboxExtra {
  resources?: Record<string, number>;
  env?: string[];
  /** The main process's numeric `uid[:gid]`. */
  user?: string;
  /** @default "test" */
  displayName?: string;
  /** The main process's `closableStdin`. */
  closableStdin?: boolean;
}

/**
 * The POST body that creates a standalone container sandbox from the image
 * `reference`, running `process`, with any further spec fields (`network`,
 * `ports`, `lifetime`, …) as given.
 */
export function standaloneSandboxBody(reference: string, displayName: string, process: Record<string, unknown>, spec: Record<string, unknown> = {}) {
  return {
    profile: "worker",
    spec: {
      owner: { kind: "standalone", displayName },
      backend: "container",
      root: { kind: "oci_image", source: { kind: "reference", reference } },
      process,
      ...spec,
    },
  };
}

/** The POST body that creates a standalone container sandbox running `argv` in busybox. */
export function busyboxSandboxBody(argv: string[], extra: BusyboxSandboxExtra = {}) {
  return standaloneSandboxBody(
    BUSYBOX,
    extra.displayName ?? "test",
    {
      argv,
      ...(extra.env ? { env: extra.env } : {}),
      ...(extra.user ? { user: extra.user } : {}),
      ...(extra.closableStdin ? { closableStdin: true } : {}),
    },
    extra.resources ? { resources: extra.resources } : {},
  );
}

export interface SandboxEnv {
  registry: TestRegistry;
  srv: TestServer;
  /** Create a tenant. */
  tenant(id: string): Promise<void>;
  /** Poll GET until the sandbox reaches one of `states` (or throw after timeoutMs). */
  waitFor(tenant: string, id: string, states: string[], timeoutMs?: number): Promise<any>;
  /** POST a sandbox running `argv` in the busybox image; returns the 201 body. */
  create(tenant: string, argv: string[], extra?: BusyboxSandboxExtra & { labels?: Record<string, string>; headers?: Record<string, string> }): Promise<any>;
  /** Stop without a grace period (test processes ignore SIGTERM as PID 1), then delete. */
  remove(tenant: string, id: string): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops the server and starts a new one on the same data dir (sandboxes keep running), `downMs` later; `srv` is the new one. */
  restart(opts?: { downMs?: number }): Promise<void>;
  /** The main process output, as text. */
  logs(tenant: string, id: string): Promise<string>;
  close(): Promise<void>;
}

export async function startSandboxEnv(options: TestServerOptions = {}): Promise<SandboxEnv> {
  const registry = await startRegistry();
  try {
    pushFixture(registry.backendHost, await buildBusyboxImage(), "library/busybox", FIXTURE_TAG);
  } catch (err) {
    await registry.stop();
    throw err;
  }
  const serverOptions = { ...options, flags: { registryMirrors: [`docker.io=${registry.url}`], ...options.flags } };
  let srv = await startTestServer(serverOptions);
  const env: SandboxEnv = {
    registry,
    srv,
    async tenant(id) {
      const r = await srv.request("POST", "/api/tenants", { body: { id } });
      if (r.status !== 201) throw new Error(`creating tenant ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async create(tenant, argv, extra = {}) {
      const body = { ...busyboxSandboxBody(argv, extra), labels: extra.labels ?? {} };
      const r = await srv.request("POST", `/api/tenants/${tenant}/sandboxes`, { body, ...(extra.headers ? { headers: extra.headers } : {}) });
      if (r.status !== 201) throw Object.assign(new Error(`create: ${r.status} ${JSON.stringify(r.body)}`), { response: r });
      return r.body;
    },
    async remove(tenant, id) {
      await srv.request("POST", `/api/tenants/${tenant}/sandboxes/${id}/stop`, { body: { gracePeriodMs: 0 } });
      return srv.request("DELETE", `/api/tenants/${tenant}/sandboxes/${id}`);
    },
    async restart(opts = {}) {
      await srv.stop();
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      srv = await startTestServer({ ...serverOptions, root: srv.root });
      env.srv = srv;
    },
    async logs(tenant, id) {
      const r = await fetch(`${srv.url}/api/tenants/${tenant}/sandboxes/${id}/logs`, { headers: { authorization: `Bearer ${srv.token()}` } });
      return r.text();
    },
    async waitFor(tenant, id, states, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await srv.request("GET", `/api/tenants/${tenant}/sandboxes/${id}`);
        if (r.status !== 200) throw new Error(`GET sandbox ${id}: ${r.status} ${JSON.stringify(r.body)}`);
        if (states.includes(r.body.status.lifecycleState)) return r.body;
        if (Date.now() > deadline)
          throw new Error(`sandbox ${id} is ${r.body.status.lifecycleState}, not ${states.join("|")}: ${JSON.stringify(r.body.status)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async close() {
      try {
        const tenants = (await srv.request("GET", "/api/tenants")).body?.tenants ?? [];
        for (const t of tenants) await srv.request("DELETE", `/api/tenants/${t}`);
        await srv.stop();
        await assertNoLeftovers(join(srv.root, "data", "runtime"));
      } finally {
        await srv.stop();
        await purgeRuntime(join(srv.root, "data", "runtime"));
        await srv.close();
        await registry.stop();
      }
    },
  };
  return env;
}
