/**
 * Acceptance (Foundation #5): the real SDK against a real listening server:
 * settings discovered from the environment and from the credentials file,
 * and typed errors that carry the server's code and request id.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Nimbus, NimbusAuthError, NimbusConflictError, NimbusError, NimbusInvalidInputError, NimbusNotFoundError } from "@nimbus/nimbus";
import { startTestServer, type TestServer } from "../testing/server.js";

let srv: TestServer;
const saved = { ...process.env };
const SDK_VARS = ["NIMBUS_ENDPOINT", "NIMBUS_TOKEN", "NIMBUS_BEARER_TOKEN", "NIMBUS_API_KEY", "NIMBUS_TENANT_ID", "NIMBUS_APPLICATION_CREDENTIALS"];

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  process.env = saved;
  await srv.close();
});

function withEnv(vars: Record<string, string>): void {
  for (const k of SDK_VARS) delete process.env[k];
  Object.assign(process.env, vars);
}

test("discovery from the environment: endpoint and token from NIMBUS_* variables", async () => {
  withEnv({ NIMBUS_ENDPOINT: srv.url, NIMBUS_TOKEN: srv.token(), HOME: join(srv.root, "nohome") });
  const nimbus = new Nimbus();
  assert.deepEqual(await nimbus.tenants.create({ id: "from-env" }), { id: "from-env" });
  assert.ok((await nimbus.tenants.list()).includes("from-env"));
});

test("discovery from the credentials file, with a tenant API key and its tenant", async () => {
  const key = (await srv.request("POST", "/api/tenants/from-env/api-keys", { body: { name: "sdk" } })).body.key as string;
  const file = join(srv.root, "creds", "application_default_credentials.json");
  mkdirSync(join(srv.root, "creds"), { recursive: true });
  writeFileSync(file, JSON.stringify({ endpoint: srv.url, apiKey: key, tenantId: "from-env" }));
  withEnv({ NIMBUS_APPLICATION_CREDENTIALS: file, HOME: join(srv.root, "nohome") });
  const nimbus = new Nimbus();
  const page = await nimbus.sandboxes.list({});
  assert.equal(page.metadata.tenantId, "from-env");
  assert.deepEqual(page.items, []);
  // The key acts only inside its tenant: an admin route is forbidden.
  await assert.rejects(nimbus.tenants.list(), (err: unknown) => err instanceof NimbusAuthError && err.code === "auth.forbidden" && err.status === 403);
});

test("nothing to discover: the first request names the settings to provide", async () => {
  withEnv({ HOME: join(srv.root, "nohome") });
  const nimbus = new Nimbus();
  await assert.rejects(
    nimbus.tenants.list(),
    (err: unknown) => err instanceof NimbusError && /endpoint/.test(err.message) && /NIMBUS_ENDPOINT/.test(err.message),
  );
});

test("typed errors carry the server's code, status and request id", async () => {
  withEnv({});
  const nimbus = new Nimbus({ endpoint: srv.url, token: srv.token(), tenantId: "from-env" });
  const dup = await nimbus.tenants.create({ id: "from-env" }).catch((e) => e);
  assert.ok(dup instanceof NimbusConflictError);
  assert.equal(dup.code, "op.already_exists");
  assert.equal(dup.status, 409);
  assert.match(String(dup.requestId), /^req_[0-9a-z]{26}$/);
  const missing = await nimbus.sandboxes.get({ id: "nope" }).catch((e) => e);
  assert.ok(missing instanceof NimbusNotFoundError);
  assert.equal(missing.code, "op.not_found");
  assert.match(missing.message, /sandbox `nope` was not found for tenant `from-env`/);
  const invalid = await nimbus.tenants.create({ id: "_reserved" }).catch((e) => e);
  assert.ok(invalid instanceof NimbusInvalidInputError);
  assert.equal(invalid.status, 400);
  const wrong = await new Nimbus({ endpoint: srv.url, token: "nimbus_at_wrong" }).tenants.list().catch((e) => e);
  assert.ok(wrong instanceof NimbusAuthError);
  assert.equal(wrong.code, "auth.unauthorized");
  assert.equal(typeof wrong.requestId, "string");
});

test("nothing set, but a server runs on this machine: new Nimbus() finds its address and admin token", async () => {
  withEnv({ HOME: join(srv.root, "nohome"), XDG_DATA_HOME: join(srv.root, "xdg") }); // where this test server keeps its token and server.json
  const nimbus = new Nimbus();
  assert.ok(Array.isArray(await nimbus.tenants.list()));
  delete process.env.XDG_DATA_HOME;
});
