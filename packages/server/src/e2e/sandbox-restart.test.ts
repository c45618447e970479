/**
 * Acceptance (Sandboxes #3): `kill -9` the server while sandboxes run and
 * start it again on the same data dir: the same sandboxes are ready with the
 * same ids, and a process that exited while the server was down shows its
 * real exit code. Sandboxes outlive the server because conmon holds them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Nimbus } from "@nimbus/nimbus";
import { spawnServer } from "../testing/cli.js";
import { killableServerWorld } from "../testing/killable-server.js";
import { assertNoLeftovers } from "../runtime/leak-check.js";

const { env, dataDir, serveFlags, token } = killableServerWorld();

const spec = (argv: string[]) => ({
  owner: { kind: "standalone" as const, displayName: "survivor" },
  backend: "container" as const,
  root: { kind: "oci_image" as const, source: { kind: "reference" as const, reference: "busybox" } },
  process: { argv },
});

test("sandboxes survive kill -9 of the server and are re-adopted with the same ids and real exit codes", async () => {
  const flags = serveFlags();
  const first = await spawnServer(flags, env);
  let client = new Nimbus({ endpoint: first.address, token: token(), tenantId: "demo" });
  await client.tenants.create({ id: "demo" });
  const long = await client.sandboxes.create({ profile: "worker", spec: spec(["sleep", "1000"]) });
  // Exits with 7 a few seconds from now, while the server is down.
  const short = await client.sandboxes.create({ profile: "worker", spec: spec(["sh", "-c", "sleep 5; exit 7"]) });
  await client.sandboxes.wait({ id: long.metadata.id, until: "ready", timeoutMs: 30_000 });
  const shortReady = await client.sandboxes.wait({ id: short.metadata.id, until: "ready", timeoutMs: 30_000 });
  assert.equal(shortReady.status.lifecycleState, "ready");
  const exitsAt = Date.now() + 5_000; // its sleep started before it was reported ready

  assert.equal(await first.stop("SIGKILL"), null, "the server died from SIGKILL");
  await new Promise((r) => setTimeout(r, Math.max(0, exitsAt - Date.now()) + 1_500)); // it exits while no server runs

  const second = await spawnServer(flags, env);
  try {
    client = new Nimbus({ endpoint: second.address, token: token(), tenantId: "demo" });
    const longAfter = await client.sandboxes.get({ id: long.metadata.id });
    assert.equal(longAfter.status.lifecycleState, "ready");
    assert.equal(longAfter.metadata.id, long.metadata.id);
    const shortAfter = await client.sandboxes.get({ id: short.metadata.id });
    assert.equal(shortAfter.status.lifecycleState, "failed");
    assert.equal(shortAfter.status.reason, "exited");
    assert.equal(shortAfter.status.exitCode, 7);
    const all = await client.sandboxes.list({});
    assert.equal(all.items.length, 2, "no duplicates were launched");
    // The adopted sandbox still stops normally.
    const stopped = await client.sandboxes.stop({ id: long.metadata.id, gracePeriodMs: 500 });
    assert.equal(stopped.status.lifecycleState, "stopped");
    await client.tenants.delete({ id: "demo" });
  } finally {
    assert.equal(await second.stop("SIGTERM"), 0);
  }
  await assertNoLeftovers(join(dataDir, "runtime"));
});
