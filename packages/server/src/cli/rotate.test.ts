/**
 * Acceptance (Foundation #2): `nimbus token rotate` against a running server
 * makes the old token fail at once and the new one work; offline rotation
 * rewrites the file with generation + 1.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer } from "../testing/cli.js";

const tmp = makeTempRoot();
after(() => tmp.cleanup());
const env = isolatedEnv(tmp.root);
const tokenPath = join(tmp.root, "xdg", "nimbus", "auth", "token");
const readToken = () => JSON.parse(readFileSync(tokenPath, "utf8")) as { token: string; generation: number };

test("rotation through the running server revokes the old token immediately", async () => {
  const s = await spawnServer(["--data-dir", join(tmp.root, "data")], env);
  try {
    const old = readToken();
    const r = await runNimbus(["token", "rotate"], env);
    assert.equal(r.code, 0, r.stderr);
    const fresh = readToken();
    assert.equal(fresh.generation, old.generation + 1);
    assert.notEqual(fresh.token, old.token);
    const withOld = await fetch(s.address + "/api/tenants", { headers: { authorization: `Bearer ${old.token}` } });
    assert.equal(withOld.status, 401);
    assert.equal(((await withOld.json()) as { error: { code: string } }).error.code, "auth.unauthorized");
    const withNew = await fetch(s.address + "/api/tenants", { headers: { authorization: `Bearer ${fresh.token}` } });
    assert.equal(withNew.status, 200);
  } finally {
    await s.stop();
  }
});

test("offline rotation rewrites the file and the next start uses the new token", async () => {
  const before = readToken();
  const r = await runNimbus(["token", "rotate"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no server running/);
  const after = readToken();
  assert.equal(after.generation, before.generation + 1);
  const s = await spawnServer(["--data-dir", join(tmp.root, "data")], env);
  try {
    assert.equal((await fetch(s.address + "/api/tenants", { headers: { authorization: `Bearer ${before.token}` } })).status, 401);
    assert.equal((await fetch(s.address + "/api/tenants", { headers: { authorization: `Bearer ${after.token}` } })).status, 200);
  } finally {
    await s.stop();
  }
});
