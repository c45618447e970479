/**
 * Attack test, issue 15 finding 13: an empty or corrupt database kills running
 * work. With a sandbox running, the server is stopped and its nimbus.db is
 * (a) truncated to 0 bytes, or (b) damaged (every b-tree page header but the
 * first overwritten). Old code booted (a) as a fresh server and removed the
 * running sandbox as an orphan, and crashed or answered 500s on (b). Now start
 * refuses with a message that names what was found and `nimbus restore`, and
 * the sandbox's container keeps running. (c) A container in the same runtime
 * root without this data dir's instance id (made by hand) is not removed as an
 * orphan at boot. And `nimbus backup` (taken while the server runs) followed by
 * `nimbus restore` round-trips the tenant and sandbox records: the restarted
 * server re-adopts the sandbox, and a tenant created after the backup is gone.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdtempSync, openSync, closeSync, readdirSync, statSync, truncateSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { startTestServer, type TestServer } from "../testing/server.js";
import { runNimbus, isolatedEnv } from "../testing/cli.js";
import { ContainerBackend } from "../runtime/index.js";
import { assertNoLeftovers } from "../runtime/leak-check.js";
import { purgeRuntime } from "../testing/purge.js";

let env: SandboxEnv;
let root: string;
let dataDir: string;
let sandboxId: string;
let restarted: TestServer | undefined;
const backupFile = () => join(root, "backups", "nimbus.backup");

function containerStatus(id: string): string | undefined {
  const r = spawnSync("crun", [`--root=${join(dataDir, "runtime", "root")}`, "state", id], { encoding: "utf8" });
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string }).status : undefined;
}

function corruptPages(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, "r+");
  try {
    // Page 1 (the header and schema) stays readable; every other page gets an invalid b-tree page type.
    for (let off = 4096; off < size; off += 4096) writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, off);
  } finally {
    closeSync(fd);
  }
}

async function restart(): Promise<TestServer> {
  return startTestServer({ root, flags: { registryMirrors: [`docker.io=${env.registry.url}`] } });
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), "nimbus-attack-db-"));
  dataDir = join(root, "data");
  env = await startSandboxEnv({ root });
  await env.tenant("t1");
  const sb = await env.create("t1", ["sh", "-c", "sleep 600"]);
  sandboxId = sb.metadata.id;
  await env.waitFor("t1", sandboxId, ["ready"]);
});

after(async () => {
  try {
    if (restarted) {
      for (const t of (await restarted.request("GET", "/api/tenants")).body?.tenants ?? []) await restarted.request("DELETE", `/api/tenants/${t}`);
      await restarted.stop();
      await assertNoLeftovers(join(dataDir, "runtime"));
    }
  } finally {
    await restarted?.stop();
    await purgeRuntime(join(dataDir, "runtime"));
    await env.srv.close();
    await env.registry.stop();
  }
});

test("nimbus backup copies the database while the server runs (0600, healthy)", async () => {
  const r = await runNimbus(["backup", backupFile(), "--data-dir", dataDir], isolatedEnv(root));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /backed up the database to/);
  assert.equal(statSync(backupFile()).mode & 0o777, 0o600);
  // The data dir's instance id (minted once, 0600) is stamped on the sandbox's container.
  assert.equal(statSync(join(dataDir, "instance-id")).mode & 0o777, 0o600);
  const instanceId = readFileSync(join(dataDir, "instance-id"), "utf8").trim();
  const config = JSON.parse(readFileSync(join(dataDir, "runtime", "c", sandboxId, "config.json"), "utf8"));
  assert.equal(config.annotations["io.nimbus.instance"], instanceId);
  // Restore refuses while the server holds the data dir.
  const busy = await runNimbus(["restore", backupFile(), "--data-dir", dataDir], isolatedEnv(root));
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /in use by another nimbus server .*stop it before restoring/);
  assert.ok(!readdirSync(dataDir).some((n) => n.startsWith("nimbus.db.before-restore-")), "nothing was moved");
  // Something the backup does not have: it must be gone after the restore.
  assert.equal((await env.srv.request("POST", "/api/tenants", { body: { id: "after-backup" } })).status, 201);
  await env.srv.stop();
  assert.equal(containerStatus(sandboxId), "running", "the sandbox outlives the server");
});

test("(a) a 0-byte nimbus.db with a running sandbox: start refuses, names nimbus restore, touches no sandbox", async () => {
  truncateSync(join(dataDir, "nimbus.db"), 0);
  await assert.rejects(restart(), (err: Error) => {
    assert.match(err.message, /nimbus\.db is empty \(0 bytes/);
    assert.match(err.message, /holds 1 sandbox container/);
    assert.match(err.message, /nimbus restore <backup-file> --data-dir/);
    return true;
  });
  assert.equal(containerStatus(sandboxId), "running");
  assert.equal(statSync(join(dataDir, "nimbus.db")).size, 0, "the database was left as found");
});

test("nimbus restore refuses a bad file and keeps the current database", async () => {
  const junk = join(root, "junk.db");
  writeFileSync(junk, "not a database at all, just text ".repeat(200));
  const r = await runNimbus(["restore", junk, "--data-dir", dataDir], isolatedEnv(root));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is damaged .*nothing was changed/);
  assert.equal(statSync(join(dataDir, "nimbus.db")).size, 0);
});

test("(b) a damaged nimbus.db: start refuses with quick_check's finding, touches no sandbox", async () => {
  const r = await runNimbus(["restore", backupFile(), "--data-dir", dataDir], isolatedEnv(root));
  assert.equal(r.code, 0, r.stderr);
  corruptPages(join(dataDir, "nimbus.db"));
  await assert.rejects(restart(), (err: Error) => {
    assert.match(err.message, /nimbus\.db is damaged \(quick_check: /);
    assert.match(err.message, /nimbus restore/);
    return true;
  });
  assert.equal(containerStatus(sandboxId), "running");
});

test("(c) a container without this data dir's instance id is not removed as an orphan; restore round-trips the records", async () => {
  // A container made by hand in the same runtime root, from the same image layers, with no annotations.
  const layers = join(dataDir, "images", "layers");
  const lower = readdirSync(layers)
    .map((d) => join(layers, d))
    .find((d) => existsSync(join(d, "bin", "busybox")));
  assert.ok(lower);
  const backend = new ContainerBackend({ stateDir: join(dataDir, "runtime") });
  try {
    await backend.create({
      id: "hand-made-1",
      rootfs: { lowerDirs: [lower] },
      process: { args: ["sleep", "600"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
      hostname: "hand-made",
      resources: { memoryLimitBytes: 64 * 1024 * 1024, pidsLimit: 64, cpuCount: 1 },
    });
    await backend.start("hand-made-1");
  } finally {
    backend.close();
  }

  const r = await runNimbus(["restore", backupFile(), "--data-dir", dataDir], isolatedEnv(root));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kept as .*nimbus\.db\.before-restore-/);
  assert.ok(
    readdirSync(dataDir).some((n) => n.startsWith("nimbus.db.before-restore-")),
    "the damaged database was kept aside",
  );

  restarted = await restart();
  const got = await restarted.request("GET", `/api/tenants/t1/sandboxes/${sandboxId}`);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  assert.equal(got.body.status.lifecycleState, "ready", "the restored record re-adopts the running sandbox");
  const tenants = (await restarted.request("GET", "/api/tenants")).body.tenants as string[];
  assert.ok(tenants.includes("t1"));
  assert.ok(!tenants.includes("after-backup"), "the restore went back to the backup's records");
  assert.equal(containerStatus("hand-made-1"), "running", "the foreign container was kept");

  // Clean up the hand-made container the way it was made.
  const cleanup = new ContainerBackend({ stateDir: join(dataDir, "runtime") });
  try {
    await cleanup.delete("hand-made-1");
  } finally {
    cleanup.close();
  }
  await restarted.request("POST", `/api/tenants/t1/sandboxes/${sandboxId}/stop`, { body: { gracePeriodMs: 0 } });
});
