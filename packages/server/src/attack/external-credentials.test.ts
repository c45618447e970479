/**
 * Attack test for issue 15 finding 20: credentials in external service
 * endpoints. A tenant declares an `external` service whose URL carries
 * `user:secret@` (or is a bare `https://`, or not http(s) at all), hoping the
 * server stores it and echoes it in every definition, list and event. Each
 * must be a 400 `op.invalid_input` naming the field, store nothing (GET is
 * 404, the list is empty) and never repeat the secret in the answer.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../testing/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  const r = await srv.request("POST", "/api/tenants", { body: { id: "evil" } });
  assert.equal(r.status, 201);
});
after(async () => {
  await srv?.close();
});

const SECRET = "s3cr3t-token-4711";
const cases: Array<[string, Record<string, unknown>, string]> = [
  ["user and password", { url: `https://user:${SECRET}@api.example.com/v1` }, "spec.backend.url"],
  ["user only", { url: `https://${SECRET}@api.example.com` }, "spec.backend.url"],
  ["empty user-info", { url: "https://@api.example.com" }, "spec.backend.url"],
  ["credentials in the endpoint spelling", { endpoint: `http://admin:${SECRET}@10.0.0.1:8080` }, "spec.backend.endpoint"],
  ["bare scheme", { url: "https://" }, "spec.backend.url"],
  ["no host", { url: "http:///path" }, "spec.backend.url"],
  ["relative", { url: "/just/a/path" }, "spec.backend.url"],
  ["other scheme", { url: `ftp://user:${SECRET}@files.example.com` }, "spec.backend.url"],
  ["file scheme", { url: "file:///etc/passwd" }, "spec.backend.url"],
  ["not a string", { url: { href: "https://api.example.com" } }, "spec.backend.url"],
  ["no endpoint at all", {}, "spec.backend.url"],
];

for (const [what, fields, field] of cases) {
  test(`external endpoint with ${what}: 400 naming ${field}, nothing stored, nothing echoed`, async () => {
    const name = "leaky";
    const r = await srv.request("POST", "/api/tenants/evil/services", { body: { metadata: { name }, spec: { backend: { kind: "external", ...fields } } } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "op.invalid_input");
    assert.equal(r.body.error.detail?.field, field, JSON.stringify(r.body));
    assert.ok(!JSON.stringify(r.body).includes(SECRET), "the answer does not repeat the credential");
    assert.equal((await srv.request("GET", `/api/tenants/evil/services/${name}`)).status, 404, "nothing was stored");
    assert.deepEqual((await srv.request("GET", "/api/tenants/evil/services")).body.items, []);
  });
}

test("an update cannot smuggle credentials into a stored external definition", async () => {
  const created = await srv.request("POST", "/api/tenants/evil/services", {
    body: { metadata: { name: "ext" }, spec: { backend: { kind: "external", url: "https://api.example.com/v1" } } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.spec.backend.url, "https://api.example.com/v1");
  const r = await srv.request("PUT", "/api/tenants/evil/services/ext", {
    body: { metadata: { name: "ext", generation: 1 }, spec: { backend: { kind: "external", url: `https://user:${SECRET}@api.example.com/v1` } } },
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.detail?.field, "spec.backend.url");
  const got = await srv.request("GET", "/api/tenants/evil/services");
  assert.ok(!JSON.stringify(got.body).includes(SECRET));
  assert.equal((await srv.request("DELETE", "/api/tenants/evil/services/ext?ifMatchGeneration=1")).status, 204);
});
