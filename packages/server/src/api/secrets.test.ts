/**
 * (ext) Tenant secrets over HTTP and the SDK: set (created, then replaced),
 * listed and answered without the value, sealed at rest (the value is in no
 * database page and no log line, yet opens with the data dir's key), scoped
 * to the tenant, checked field by field, and removed.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Nimbus } from "@nimbus/nimbus";
import { createLogger } from "../log.js";
import { startTestServer, type TestServer } from "../testing/server.js";
import { SecretBox } from "../host/secret-box.js";

const VALUE = "sk-live-4f1e9c2b7d";
const lines: string[] = [];
let srv: TestServer;
let nimbus: Nimbus;

before(async () => {
  srv = await startTestServer({ log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }) });
  await srv.request("POST", "/api/tenants", { body: { id: "demo" } });
  await srv.request("POST", "/api/tenants", { body: { id: "other" } });
  nimbus = new Nimbus({ endpoint: srv.url, token: srv.token(), tenantId: "demo" });
});
after(() => srv.close());

test("a secret is set, replaced and listed, and its value never comes back", async () => {
  const created = await srv.request("POST", "/api/tenants/demo/secrets", { body: { name: "OPENAI", value: "first-value", hosts: ["API.openai.test"] } });
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.body).sort(), ["createdAt", "format", "header", "hosts", "name", "updatedAt"]);
  assert.deepEqual([created.body.hosts, created.body.header, created.body.format], [["api.openai.test"], "Authorization", "Bearer {value}"]);
  const replaced = await nimbus.secrets.set({ name: "OPENAI", value: VALUE, hosts: ["api.openai.test", "*.openai.test"], format: "Bearer {value}" });
  assert.equal(replaced.createdAt, created.body.createdAt);
  const listed = await nimbus.secrets.list();
  assert.deepEqual(
    listed.map((s) => [s.name, s.hosts]),
    [["OPENAI", ["api.openai.test", "*.openai.test"]]],
  );
  assert.equal(JSON.stringify(listed).includes(VALUE), false);
});

test("the value is sealed at rest and in no log line, and opens with the data dir's key", () => {
  const dataDir = join(srv.root, "data");
  for (const f of readdirSync(dataDir).filter((f) => f.startsWith("nimbus.db"))) {
    assert.equal(readFileSync(join(dataDir, f)).includes(VALUE), false, `${f} holds the value in clear`);
  }
  assert.equal(lines.join("\n").includes(VALUE), false, "a log line holds the value");
  const row = srv.server.db.prepare("SELECT sealed_value FROM secrets WHERE tenant_id = 'demo' AND name = 'OPENAI'").get() as { sealed_value: string };
  assert.equal(SecretBox.open(dataDir).open(row.sealed_value, "demo:OPENAI"), VALUE);
});

test("another tenant's key sees none of it", async () => {
  const key = (await srv.request("POST", "/api/tenants/other/api-keys", { body: {} })).body.key as string;
  const asOther = new Nimbus({ endpoint: srv.url, apiKey: key, tenantId: "other" });
  assert.deepEqual(await asOther.secrets.list(), []);
  await assert.rejects(asOther.secrets.list({ tenantId: "demo" }), (e: { status: number }) => e.status === 404);
  await assert.rejects(asOther.secrets.delete({ tenantId: "demo", name: "OPENAI" }), (e: { status: number }) => e.status === 404);
});

test("bad input is a 400 naming the field, and stores nothing", async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ name: "openai", value: "x", hosts: ["a.test"] }, "name"],
    [{ name: "NEWLINE", value: "x\r\nHost: evil.test", hosts: ["a.test"] }, "value"],
    [{ name: "NOHOSTS", value: "x", hosts: [] }, "hosts"],
    [{ name: "BARE", value: "x", hosts: ["*.test"] }, "hosts[0]"],
    [{ name: "FMT", value: "x", hosts: ["a.test"], format: "no placeholder" }, "format"],
    [{ name: "EXTRA", value: "x", hosts: ["a.test"], leak: true }, "leak"],
  ];
  for (const [body, field] of cases) {
    const r = await srv.request("POST", "/api/tenants/demo/secrets", { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.code, "op.invalid_input");
    assert.ok(String(r.body.error.detail?.field).endsWith(field), `${JSON.stringify(r.body.error.detail)} names ${field}`);
  }
  assert.deepEqual(
    (await nimbus.secrets.list()).map((s) => s.name),
    ["OPENAI"],
  );
});

test("a secret is removed once; again is a 404", async () => {
  await nimbus.secrets.delete({ name: "OPENAI" });
  assert.deepEqual(await nimbus.secrets.list(), []);
  await assert.rejects(nimbus.secrets.delete({ name: "OPENAI" }), (e: { code: string }) => e.code === "op.not_found");
});
