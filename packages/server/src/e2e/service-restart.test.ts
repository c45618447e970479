/**
 * Acceptance (Services #4) on the built binary: a service made and started
 * with the CLI survives `kill -9` of the server. After the restart on the
 * same data dir it is still ready with the same sandbox id (nothing was
 * launched twice), its port is published again and the proxy answers; the
 * killed server's port forwarders died with it.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { Nimbus, type ServiceView } from "@nimbus/nimbus";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer } from "../testing/cli.js";
import { buildBusyboxImage, pushFixture, FIXTURE_TAG } from "../testing/fixtures.js";
import { startRegistry, type TestRegistry } from "../testing/registry.js";
import { assertNoLeftovers } from "../runtime/leak-check.js";
import { forwarderPids } from "../runtime/container/port-forward.js";
import { ContainerBackend } from "../runtime/index.js";
import { until } from "../testing/until.js";

const tmp = makeTempRoot();
const env = isolatedEnv(tmp.root);
const dataDir = join(tmp.root, "data");
const socketDir = join(dataDir, "endpoints");
let registry: TestRegistry;

before(async () => {
  registry = await startRegistry();
  pushFixture(registry.backendHost, await buildBusyboxImage(), "library/busybox", FIXTURE_TAG);
});
after(async () => {
  // Last resort if the test failed half way: nothing may outlive it.
  for (const pid of forwarderPids(socketDir)) process.kill(pid, "SIGKILL");
  const backend = new ContainerBackend({ stateDir: join(dataDir, "runtime") });
  for (const c of await backend.list()) await backend.delete(c.id).catch(() => undefined);
  backend.close();
  await registry?.stop();
  tmp.cleanup();
});

test("a service survives kill -9 of the server: same sandbox, no duplicate, endpoint and proxy back", async () => {
  const flags = ["--data-dir", dataDir, "--registry-mirror", `docker.io=${registry.url}`];
  const cli = async (...args: string[]) => {
    const r = await runNimbus(args, env);
    return { ...r, ok: r.code === 0 };
  };
  const token = () => JSON.parse(readFileSync(join(tmp.root, "xdg", "nimbus", "auth", "token"), "utf8")).token as string;
  const first = await spawnServer(flags, env);
  let second: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    assert.ok((await cli("tenant", "create", "demo")).ok);
    const created = await cli(
      "service",
      "create",
      "web",
      "busybox",
      "-T",
      "demo",
      "--port",
      "http=8080/http@host",
      "--probe-http",
      "/",
      "--restart",
      "on_failure",
      "--",
      "sh",
      "-c",
      "mkdir -p /www && echo survivor > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait",
    );
    assert.ok(created.ok, created.stderr);
    assert.match(created.stdout, /created service web \(generation 1\)/);
    const started = await cli("service", "start", "web", "-T", "demo", "--wait", "--timeout", "30s");
    assert.ok(started.ok, started.stderr);
    assert.match(started.stdout, /^web running \(sandbox web-[0-9a-z]{26}\)/);

    let nimbus = new Nimbus({ endpoint: first.address, token: token(), tenantId: "demo" });
    const before = await nimbus.services.get({ name: "web" });
    assert.equal(before.lifecycleState, "ready");
    assert.equal(await (await fetch(`http://127.0.0.1:${before.endpoints[0]!.port}/`)).text(), "survivor\n");
    const listed = await cli("service", "ls", "-T", "demo");
    assert.match(listed.stdout, new RegExp(`web\\s+running\\s+healthy\\s+${before.sandboxId}\\s+0\\s+127\\.0\\.0\\.1:${before.endpoints[0]!.port}`));

    assert.equal(await first.stop("SIGKILL"), null, "the server died from SIGKILL");
    await until(
      "the killed server's forwarders to die with it",
      async () => forwarderPids(socketDir),
      (p) => p.length === 0,
      5_000,
    );

    second = await spawnServer(flags, env);
    nimbus = new Nimbus({ endpoint: second.address, token: token(), tenantId: "demo" });
    const after: ServiceView = await until(
      "the service to be published again",
      () => nimbus.services.get({ name: "web" }),
      (v) => v.endpoints.length === 1,
    );
    assert.equal(after.lifecycleState, "ready");
    assert.equal(after.sandboxId, before.sandboxId, "the same sandbox serves the name");
    assert.equal(after.restartCount, 0);
    const sandboxes = await nimbus.sandboxes.list({});
    assert.deepEqual(
      sandboxes.items.map((s) => s.metadata.id),
      [before.sandboxId],
      "no duplicate was launched",
    );
    const proxied = await fetch(`${second.address}/api/tenants/demo/services/web/proxy/`, { headers: { authorization: `Bearer ${token()}` } });
    assert.equal(await proxied.text(), "survivor\n");
    assert.equal(await (await fetch(`http://127.0.0.1:${after.endpoints[0]!.port}/`)).text(), "survivor\n");

    const get = await cli("service", "get", "web", "-T", "demo");
    assert.match(get.stdout, /state:\s+running \(lifecycle ready/);
    assert.match(get.stdout, /endpoint:\s+http http:\/\/127\.0\.0\.1:\d+/);
    const logs = await cli("service", "logs", "web", "-T", "demo");
    assert.ok(logs.ok, logs.stderr);
    const refused = await cli("service", "rm", "web", "-T", "demo");
    assert.notEqual(refused.code, 0, "a running service is not deleted without --force");
    assert.match(refused.stderr, /delete with force=true/);
    const stopped = await cli("service", "stop", "web", "-T", "demo", "--grace", "2s");
    assert.match(stopped.stdout, /^web stopped/);
    const removed = await cli("service", "rm", "web", "-T", "demo");
    assert.ok(removed.ok, removed.stderr);
    assert.deepEqual((await nimbus.sandboxes.list({})).items, []);
    await nimbus.tenants.delete({ id: "demo" });
  } finally {
    await first.stop("SIGKILL");
    if (second) assert.equal(await second.stop("SIGTERM"), 0);
  }
  await assertNoLeftovers(join(dataDir, "runtime"));
  assert.deepEqual(forwarderPids(socketDir), []);
});
