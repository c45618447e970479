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

export const BUSYBOX = "docker.io/library/busybox:latest";

export interface SandboxEnv {
  registry: TestRegistry;
  srv: TestServer;
  /** Create a tenant and return a helper bound to it. */
  tenant(id: string): Promise<void>;
  /** Poll GET until the sandbox reaches one of `states` (or throw after timeoutMs). */
  waitFor(tenant: string, id: string, states: string[], timeoutMs?: number): Promise<any>;
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
  const srv = await startTestServer({ ...options, flags: { registryMirrors: [`docker.io=${registry.url}`], ...options.flags } });
  const env: SandboxEnv = {
    registry,
    srv,
    async tenant(id) {
      const r = await srv.request("POST", "/api/tenants", { body: { id } });
      if (r.status !== 201) throw new Error(`creating tenant ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async waitFor(tenant, id, states, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await srv.request("GET", `/api/tenants/${tenant}/sandboxes/${id}`);
        if (r.status !== 200) throw new Error(`GET sandbox ${id}: ${r.status} ${JSON.stringify(r.body)}`);
        if (states.includes(r.body.status.lifecycleState)) return r.body;
        if (Date.now() > deadline) throw new Error(`sandbox ${id} is ${r.body.status.lifecycleState}, not ${states.join("|")}: ${JSON.stringify(r.body.status)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async close() {
      try {
        const tenants = (await srv.request("GET", "/api/tenants")).body?.tenants ?? [];
        for (const t of tenants) await srv.request("DELETE", `/api/tenants/${t}`);
      } finally {
        await srv.close();
        await registry.stop();
      }
    },
  };
  return env;
}
