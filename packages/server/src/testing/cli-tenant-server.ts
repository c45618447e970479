/**
 * The preamble of a CLI test against a running server: registers `before`
 * (a `nimbus start` child on a temp data dir, then `tenant create` with the
 * CLI) and `after` (stop it, remove the temp dir) with node:test, and
 * returns the env the test runs `nimbus` in.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer, type ServerProcess } from "./cli.js";

export function useCliServerWithTenant(tenant: string, extraEnv: NodeJS.ProcessEnv = {}): { env: NodeJS.ProcessEnv } {
  const tmp = makeTempRoot();
  const env = isolatedEnv(tmp.root, extraEnv);
  let server: ServerProcess | undefined;
  before(async () => {
    server = await spawnServer(["--data-dir", join(tmp.root, "data")], env);
    assert.equal((await runNimbus(["tenant", "create", tenant], env)).code, 0);
  });
  after(async () => {
    await server?.stop();
    tmp.cleanup();
  });
  return { env };
}
