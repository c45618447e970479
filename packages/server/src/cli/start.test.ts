/**
 * Acceptance (Foundation #1, #6): `nimbus start` on a fresh data dir mints
 * the admin token with the contract's format and modes, a second start
 * reuses it, the curl flow creates a tenant, data survives a restart, and
 * startup failures are one clear line with a non-zero exit.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer } from "../testing/cli.js";

const tmp = makeTempRoot();
after(() => tmp.cleanup());
const env = isolatedEnv(tmp.root);
const dataDir = join(tmp.root, "data");
const tokenPath = join(tmp.root, "xdg", "nimbus", "auth", "token");

async function post(address: string, token: string, path: string, body: string) {
  // The shape of the quickstart's curl: no content-type header needed.
  const r = await fetch(address + path, { method: "POST", headers: { authorization: `Bearer ${token}` }, body });
  return { status: r.status, body: await r.json() };
}

test("first start mints the token file; a second start reuses it; tenants survive restart", async () => {
  const s1 = await spawnServer(["--data-dir", dataDir], env);
  const raw = readFileSync(tokenPath, "utf8");
  const file = JSON.parse(raw);
  assert.deepEqual(Object.keys(file).sort(), ["generation", "issuedAt", "scope", "token", "version"]);
  assert.equal(file.version, 1);
  assert.equal(file.generation, 1);
  assert.equal(file.scope, "local-admin");
  assert.match(file.token, /^nimbus_at_[A-Za-z0-9_-]{43}$/);
  assert.ok(!Number.isNaN(Date.parse(file.issuedAt)));
  assert.equal(statSync(tokenPath).mode & 0o777, 0o600);
  assert.equal(statSync(join(tmp.root, "xdg", "nimbus", "auth")).mode & 0o777, 0o700);

  const created = await post(s1.address, file.token, "/api/tenants", '{"id": "demo"}');
  assert.equal(created.status, 201);
  assert.deepEqual(created.body, { id: "demo" });
  const again = await post(s1.address, file.token, "/api/tenants", '{"id": "demo"}');
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, "op.already_exists");
  const key = await post(s1.address, file.token, "/api/tenants/demo/api-keys", '{"name":"k"}');
  assert.equal(key.status, 201);

  assert.equal(await s1.stop("SIGTERM"), 0, "graceful shutdown exits 0");
  assert.equal(existsSync(join(tmp.root, "xdg", "nimbus", "server.json")), false, "discovery file removed on shutdown");

  const s2 = await spawnServer(["--data-dir", dataDir], env);
  try {
    assert.equal(readFileSync(tokenPath, "utf8"), raw, "the token file is not rewritten");
    const list = await fetch(s2.address + "/api/tenants", { headers: { authorization: `Bearer ${file.token}` } });
    assert.deepEqual(await list.json(), { tenants: ["demo"] });
    const keys = await fetch(s2.address + "/api/tenants/demo/api-keys", { headers: { authorization: `Bearer ${file.token}` } });
    const items = ((await keys.json()) as { items: Array<{ id: string }> }).items;
    assert.deepEqual(
      items.map((k) => k.id),
      [key.body.id],
    );
    const viaKey = await fetch(s2.address + "/api/tenants", { headers: { "x-nimbus-api-key": key.body.key } });
    assert.equal(viaKey.status, 403, "the key still authenticates after restart (403 = known key, admin-only route)");
  } finally {
    assert.equal(await s2.stop("SIGINT"), 0);
  }
});

test("`nimbus auth token` prints the token that jq -r .token would", async () => {
  const r = await runNimbus(["auth", "token"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(tokenPath, "utf8")).token);
});

test("a taken port is one clear line and a non-zero exit", async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runNimbus(["start", "--port", String(port), "--data-dir", dataDir], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  } finally {
    blocker.close();
  }
});

test("an unwritable data dir is one clear line and a non-zero exit", async () => {
  const file = join(tmp.root, "not-a-dir");
  writeFileSync(file, "x");
  const r = await runNimbus(["start", "--port", "0", "--data-dir", join(file, "data")], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /data dir .* is not writable/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
});

test("a second server on the same data dir refuses to start", async () => {
  const s = await spawnServer(["--data-dir", dataDir], env);
  try {
    const r = await runNimbus(["start", "--port", "0", "--data-dir", dataDir], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`in use by another nimbus server \\(pid ${s.child.pid}\\)`));
  } finally {
    await s.stop();
  }
});

test("a non-loopback host needs --allow-network", async () => {
  const r = await runNimbus(["start", "--host", "0.0.0.0", "--port", "0", "--data-dir", dataDir], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--allow-network/);
});

test("flags come from NIMBUS_* env, and a flag beats the env", async () => {
  const r = await runNimbus(["start", "--data-dir", dataDir], { ...env, NIMBUS_PORT: "not-a-port" });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--port must be an integer/);
  const s = await spawnServer(["--data-dir", dataDir], { ...env, NIMBUS_PORT: "not-a-port" });
  assert.equal(await s.stop(), 0);
});
