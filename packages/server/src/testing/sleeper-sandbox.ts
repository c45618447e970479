/**
 * The world of a test that works inside one long-lived sandbox through the
 * SDK (files, channels): a sandbox env with the tenant, an SDK client for
 * that tenant, and a `sleep` sandbox that is ready; and a shell step in it
 * that must succeed.
 */
import assert from "node:assert/strict";
import { Nimbus } from "@nimbus/nimbus";
import { startSandboxEnv, type SandboxEnv } from "./sandbox-env.js";
import type { TestServerOptions } from "./server.js";

export interface SleeperSandbox {
  env: SandboxEnv;
  nimbus: Nimbus;
  /** The ready sandbox's id. */
  id: string;
}

/** `user` is the sleeper's numeric `uid[:gid]`; if it never gets ready the env is closed again. */
export async function startSleeperSandbox(tenant: string, opts: TestServerOptions & { user?: string } = {}): Promise<SleeperSandbox> {
  const { user, ...serverOptions } = opts;
  const env = await startSandboxEnv(serverOptions);
  try {
    await env.tenant(tenant);
    const nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: tenant });
    const id = (await env.create(tenant, ["sleep", "100000"], user ? { user } : {})).metadata.id;
    await env.waitFor(tenant, id, ["ready"]);
    return { env, nimbus, id };
  } catch (err) {
    await env.close();
    throw err;
  }
}

/** Runs `sh -c script` in the sandbox through the SDK; fails on a non-zero exit, naming its stderr; answers stdout. */
export async function shIn(nimbus: Nimbus, id: string, script: string): Promise<string> {
  const r = await nimbus.sandboxes.exec({ id, argv: ["sh", "-c", script] });
  assert.equal(r.exitCode, 0, r.stderr.toString());
  return r.stdout.toString();
}
