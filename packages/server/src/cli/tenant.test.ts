/**
 * `nimbus tenant create|ls|rm` and `nimbus tenant key create|ls|rm` on the
 * built binary against a running server, with --json on the listings.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer, type ServerProcess } from "../testing/cli.js";

const tmp = makeTempRoot();
const env = isolatedEnv(tmp.root);
let server: ServerProcess;

before(async () => {
  server = await spawnServer(["--data-dir", join(tmp.root, "data")], env);
});
after(async () => {
  await server?.stop();
  tmp.cleanup();
});

test("tenants: create, list as table and JSON, duplicate is a clear error, remove", async () => {
  assert.equal((await runNimbus(["tenant", "create", "acme"], env)).code, 0);
  assert.equal((await runNimbus(["tenant", "create", "demo"], env)).code, 0);
  const dup = await runNimbus(["tenant", "create", "demo"], env);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /tenant `demo` already exists \(op\.already_exists, request req_/);
  const table = await runNimbus(["tenant", "ls"], env);
  assert.deepEqual(table.stdout.trim().split("\n"), ["ID", "acme", "demo"]);
  const json = await runNimbus(["tenant", "ls", "--json"], env);
  assert.deepEqual(JSON.parse(json.stdout), ["acme", "demo"]);
  assert.equal((await runNimbus(["tenant", "rm", "acme"], env)).code, 0);
  assert.deepEqual(JSON.parse((await runNimbus(["tenant", "ls", "--json"], env)).stdout), ["demo"]);
  const bad = await runNimbus(["tenant", "create", "_reserved"], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /reserved/);
});

test("tenant keys: the key is printed once, listed without its secret, and revoked", async () => {
  const created = await runNimbus(["tenant", "key", "create", "demo", "--name", "ci"], env);
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  assert.match(key, /^nimbus_ak_[0-9a-f]{16}_/);
  assert.match(created.stderr, /shown once/);
  const listed = JSON.parse((await runNimbus(["tenant", "key", "ls", "demo", "--json"], env)).stdout);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].name, "ci");
  assert.equal(JSON.stringify(listed).includes(key.slice(-20)), false);
  // The key works inside its tenant…
  const own = await fetch(`${server.address}/api/tenants/demo/sandboxes`, { headers: { "x-nimbus-api-key": key } });
  assert.equal(own.status, 200);
  assert.equal((await runNimbus(["tenant", "key", "rm", "demo", listed[0].id], env)).code, 0);
  // …and not after it is revoked.
  const revoked = await fetch(`${server.address}/api/tenants/demo/sandboxes`, { headers: { "x-nimbus-api-key": key } });
  assert.equal(revoked.status, 401);
});

test("a command with no server to talk to says where it looked", async () => {
  const r = await runNimbus(["tenant", "ls", "--endpoint", "http://127.0.0.1:9"], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /127\.0\.0\.1:9/);
});

test("tenant limits: set pins fields, get shows their source, `default` unpins, bad values are usage errors", async () => {
  assert.equal((await runNimbus(["tenant", "create", "capped"], env)).code, 0);
  const set = await runNimbus(["tenant", "limits", "set", "capped", "--memory", "1g", "--max-execs", "3", "--json"], env);
  assert.equal(set.code, 0, set.stderr);
  const view = JSON.parse(set.stdout);
  assert.equal(view.limits.memoryLimitBytes, 1024 ** 3);
  assert.deepEqual(view.overrides, { memoryLimitBytes: 1024 ** 3, maxExecs: 3 });
  const table = await runNimbus(["tenant", "limits", "get", "capped"], env);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^memory\s+1073741824\s+tenant$/m);
  assert.match(table.stdout, /^max-sessions\s+\d+\s+default$/m);
  const unpinned = JSON.parse((await runNimbus(["tenant", "limits", "set", "capped", "--max-execs", "default", "--json"], env)).stdout);
  assert.deepEqual(unpinned.overrides, { memoryLimitBytes: 1024 ** 3 });
  const bad = await runNimbus(["tenant", "limits", "set", "capped", "--max-execs", "-1"], env);
  assert.equal(bad.code, 2, bad.stderr);
  assert.equal((await runNimbus(["tenant", "limits", "set", "capped"], env)).code, 2);
  const missing = await runNimbus(["tenant", "limits", "get", "nobody"], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /op\.not_found/);
});
