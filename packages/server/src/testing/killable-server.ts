/**
 * The world of a test that runs the built `nimbus serve` as a child process
 * and kills it (`kill -9`) to start it again on the same data dir: a temp
 * root with an isolated env, a registry serving busybox as docker.io's
 * mirror, and the hooks that remove both (and any container left) afterwards.
 * Call it at the top level of a test file; it registers `before`/`after`.
 */
import { after, before } from "node:test";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { isolatedEnv, makeTempRoot } from "./cli.js";
import { buildBusyboxImage, pushFixture, FIXTURE_TAG } from "./fixtures.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import { purgeRuntime } from "./purge.js";

export interface KillableServerWorld {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** `nimbus serve` flags: this world's data dir and registry mirror (after `before` ran). */
  serveFlags(): string[];
  /** The token `nimbus serve` wrote for the CLI (read again after each restart). */
  token(): string;
}

export function killableServerWorld(): KillableServerWorld {
  const tmp = makeTempRoot();
  const dataDir = join(tmp.root, "data");
  let registry: TestRegistry | undefined;
  before(async () => {
    registry = await startRegistry();
    pushFixture(registry.backendHost, await buildBusyboxImage(), "library/busybox", FIXTURE_TAG);
  });
  after(async () => {
    await purgeRuntime(join(dataDir, "runtime"));
    await registry?.stop();
    tmp.cleanup();
  });
  return {
    env: isolatedEnv(tmp.root),
    dataDir,
    serveFlags() {
      if (!registry) throw new Error("killableServerWorld: serveFlags() before the before hook ran");
      return ["--data-dir", dataDir, "--registry-mirror", `docker.io=${registry.url}`];
    },
    token: () => (JSON.parse(readFileSync(join(tmp.root, "xdg", "nimbus", "auth", "token"), "utf8")) as { token: string }).token,
  };
}
