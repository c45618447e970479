/**
 * `nimbus registry login|ls|logout` and the tenant side of `nimbus image`
 * (pull/ls/inspect/rm with --tenant, publish/unpublish) on the built binary
 * against a `nimbus start` child and a real loopback registry that demands
 * HTTP Basic (its htpasswd auth): the password goes in on stdin and never comes out, a tenant
 * pulls with its own credentials, and another tenant sees the image only
 * once it is published.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer, type ServerProcess } from "../testing/cli.js";
import { buildBusyboxImage, pushFixture } from "../testing/fixtures.js";
import { startRegistry, type TestRegistry } from "../testing/registry.js";

const PASSWORD = "cli-registry-pw-0f3a";
const tmp = makeTempRoot("h-images-cli-");
const env = isolatedEnv(tmp.root);
let registry: TestRegistry;
let server: ServerProcess;
let ref = "";

before(async () => {
  registry = await startRegistry({ auth: { scheme: "htpasswd", username: "bot", password: PASSWORD } });
  pushFixture(registry.backendHost, await buildBusyboxImage(), "team/app", "v1", { creds: { username: "bot", password: PASSWORD } });
  ref = `${registry.host}/team/app:v1`;
  server = await spawnServer(["--data-dir", join(tmp.root, "data"), "--registry-allow", registry.host], env);
  for (const t of ["one", "two"]) assert.equal((await runNimbus(["tenant", "create", t], env)).code, 0);
});
after(async () => {
  await server?.stop();
  await registry?.stop();
  tmp.cleanup();
});

const as = (tenant: string) => ({ ...env, NIMBUS_TENANT_ID: tenant });

test("login from stdin, pull with the tenant's credentials, list without the password, logout", async () => {
  const refused = await runNimbus(["image", "pull", ref, "--json"], as("one"));
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /nimbus registry login/);

  const noUser = await runNimbus(["registry", "login", registry.host], as("one"), `${PASSWORD}\n`);
  assert.equal(noUser.code, 2);
  const login = await runNimbus(["registry", "login", registry.host, "--username", "bot"], as("one"), `${PASSWORD}\n`);
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, new RegExp(`stored credentials of bot for ${registry.host}`));
  const ls = await runNimbus(["registry", "ls", "--json"], as("one"));
  assert.deepEqual(
    JSON.parse(ls.stdout).map((c: { registry: string; username: string }) => [c.registry, c.username]),
    [[registry.host, "bot"]],
  );
  assert.equal(ls.stdout.includes(PASSWORD), false);

  const pull = await runNimbus(["image", "pull", ref, "--json"], as("one"));
  assert.equal(pull.code, 0, pull.stderr);
  const digest = JSON.parse(pull.stdout).digest as string;
  const mine = await runNimbus(["image", "ls", "--json"], as("one"));
  assert.deepEqual(
    JSON.parse(mine.stdout).map((i: { reference: string }) => i.reference),
    [ref],
  );
  const inspect = await runNimbus(["image", "inspect", digest], as("one"));
  assert.equal(JSON.parse(inspect.stdout).reference, ref);

  // Tenant two sees nothing until the operator publishes the image.
  assert.deepEqual(JSON.parse((await runNimbus(["image", "ls", "--json"], as("two"))).stdout), []);
  assert.equal((await runNimbus(["image", "inspect", digest], as("two"))).code, 1);
  const publish = await runNimbus(["image", "publish", ref], env);
  assert.equal(publish.code, 0, publish.stderr);
  const theirs = JSON.parse((await runNimbus(["image", "ls", "--json"], as("two"))).stdout);
  assert.deepEqual(
    theirs.map((i: { reference: string; public: boolean }) => [i.reference, i.public]),
    [[ref, true]],
  );
  assert.equal((await runNimbus(["image", "unpublish", ref], env)).code, 0);
  assert.deepEqual(JSON.parse((await runNimbus(["image", "ls", "--json"], as("two"))).stdout), []);

  assert.equal((await runNimbus(["image", "rm", ref], as("one"))).code, 0);
  assert.deepEqual(JSON.parse((await runNimbus(["image", "ls", "--json"], as("one"))).stdout), []);
  // The operator's whole-store view still has the content's record.
  assert.equal(JSON.parse((await runNimbus(["image", "ls", "--json"], env)).stdout).length, 1);

  assert.equal((await runNimbus(["registry", "logout", registry.host], as("one"))).code, 0);
  const again = await runNimbus(["registry", "logout", registry.host], as("one"));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /was not found/);
});
