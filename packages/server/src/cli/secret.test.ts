/**
 * `nimbus secret set|ls|rm` on the built binary: the value comes from stdin
 * and is never printed back; a missing --host is a usage error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNimbus } from "../testing/cli.js";
import { useCliServerWithTenant } from "../testing/cli-tenant-server.js";

const { env } = useCliServerWithTenant("demo", { NIMBUS_TENANT_ID: "demo" });

test("set from stdin, list without the value, remove", async () => {
  const set = await runNimbus(["secret", "set", "GITHUB", "--host", "api.github.test", "--format", "token {value}"], env, "ghp_abc123\n");
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /set secret GITHUB for api\.github\.test/);
  const ls = await runNimbus(["secret", "ls", "--json"], env);
  assert.deepEqual(
    JSON.parse(ls.stdout).map((s: { name: string; format: string }) => [s.name, s.format]),
    [["GITHUB", "token {value}"]],
  );
  assert.equal(ls.stdout.includes("ghp_abc123"), false);
  const table = await runNimbus(["secret", "ls"], env);
  assert.match(table.stdout, /^NAME\s+HOSTS/);
  assert.equal((await runNimbus(["secret", "rm", "GITHUB"], env)).code, 0);
  const again = await runNimbus(["secret", "rm", "GITHUB"], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /secret `GITHUB` was not found/);
});

test("a secret without --host or without a value is refused before anything is sent", async () => {
  const noHost = await runNimbus(["secret", "set", "X"], env, "v");
  assert.equal(noHost.code, 2);
  assert.match(noHost.stderr, /--host/);
  const noValue = await runNimbus(["secret", "set", "X", "--host", "a.test"], env, "");
  assert.equal(noValue.code, 2);
  assert.match(noValue.stderr, /no value/);
});
