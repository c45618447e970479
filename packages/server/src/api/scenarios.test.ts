/**
 * Acceptance (Foundation #3): a table of hostile and malformed requests, each
 * answered with the documented status and error code in the one envelope,
 * while the server keeps serving and loses nothing.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../testing/server.js";
import { rawRequest } from "../testing/raw-http.js";

interface Scenario {
  name: string;
  method: string;
  path: string;
  auth?: "admin" | "alphaKey" | "revokedKey" | "none" | { header: string; value: string };
  body?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

let srv: TestServer;
let alphaKey = "";
let revokedKey = "";

before(async () => {
  srv = await startTestServer();
  for (const id of ["alpha", "beta"]) assert.equal((await srv.request("POST", "/api/tenants", { body: { id } })).status, 201);
  alphaKey = (await srv.request("POST", "/api/tenants/alpha/api-keys", { body: { name: "ci" } })).body.key;
  const revoked = (await srv.request("POST", "/api/tenants/alpha/api-keys", { body: {} })).body;
  revokedKey = revoked.key;
  assert.equal((await srv.request("DELETE", `/api/tenants/alpha/api-keys/${revoked.id}`)).status, 204);
});
after(() => srv.close());

const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
const nested = "[".repeat(5000) + "]".repeat(5000);

/** A POST /api/tenants refused as invalid input (400 `op.invalid_input`). */
const badTenantBody = (name: string, body?: string): Scenario => ({
  name,
  method: "POST",
  path: "/api/tenants",
  ...(body === undefined ? {} : { body }),
  status: 400,
  code: "op.invalid_input",
});

const SCENARIOS: Scenario[] = [
  badTenantBody("bad JSON", "{"),
  badTenantBody("JSON array body", "[]"),
  badTenantBody("JSON string body", '"demo"'),
  badTenantBody("JSON null body", "null"),
  badTenantBody("trailing garbage", '{"id":"x"} x'),
  badTenantBody("deeply nested JSON", nested),
  badTenantBody("unknown field", '{"id":"x","extra":1}'),
  badTenantBody("__proto__ field", '{"id":"x","__proto__":{"admin":true}}'),
  badTenantBody("wrong type id", '{"id":5}'),
  badTenantBody("missing id", "{}"),
  badTenantBody("empty body"),
  badTenantBody("empty id", '{"id":""}'),
  badTenantBody("id too long", JSON.stringify({ id: "a".repeat(129) })),
  badTenantBody("id with space", '{"id":"a b"}'),
  badTenantBody("id with slash", '{"id":"a/b"}'),
  badTenantBody("id dot-dot", '{"id":".."}'),
  badTenantBody("reserved id", '{"id":"_system"}'),
  badTenantBody("unicode id", '{"id":"tënant"}'),
  { name: "duplicate tenant", method: "POST", path: "/api/tenants", body: '{"id":"alpha"}', status: 409, code: "op.already_exists" },
  { name: "oversized body", method: "POST", path: "/api/tenants", body: big, status: 413, code: "op.payload_too_large" },
  {
    name: "oversized chunked body",
    method: "POST",
    path: "/api/tenants",
    body: big,
    headers: { "transfer-encoding": "chunked" },
    status: 413,
    code: "op.payload_too_large",
  },
  { name: "no credential", method: "POST", path: "/api/tenants", auth: "none", body: '{"id":"x"}', status: 401, code: "auth.unauthorized" },
  {
    name: "wrong bearer token",
    method: "GET",
    path: "/api/tenants",
    auth: { header: "authorization", value: "Bearer nimbus_at_wrong" },
    status: 401,
    code: "auth.unauthorized",
  },
  {
    name: "basic auth scheme",
    method: "GET",
    path: "/api/tenants",
    auth: { header: "authorization", value: "Basic YWRtaW46YWRtaW4=" },
    status: 401,
    code: "auth.unauthorized",
  },
  { name: "empty bearer", method: "GET", path: "/api/tenants", auth: { header: "authorization", value: "Bearer " }, status: 401, code: "auth.unauthorized" },
  {
    name: "wrong admin header",
    method: "GET",
    path: "/api/tenants",
    auth: { header: "x-nimbus-admin-token", value: "nope" },
    status: 401,
    code: "auth.unauthorized",
  },
  {
    name: "wrong api key",
    method: "GET",
    path: "/api/tenants",
    auth: { header: "x-nimbus-api-key", value: "nimbus_ak_0000000000000000_x" },
    status: 401,
    code: "auth.unauthorized",
  },
  { name: "revoked api key", method: "GET", path: "/api/tenants", auth: "revokedKey", status: 401, code: "auth.unauthorized" },
  { name: "tenant key creates tenant", method: "POST", path: "/api/tenants", auth: "alphaKey", body: '{"id":"x"}', status: 403, code: "auth.forbidden" },
  { name: "tenant key lists tenants", method: "GET", path: "/api/tenants", auth: "alphaKey", status: 403, code: "auth.forbidden" },
  { name: "tenant key deletes other tenant", method: "DELETE", path: "/api/tenants/beta", auth: "alphaKey", status: 403, code: "auth.forbidden" },
  { name: "tenant key lists keys", method: "GET", path: "/api/tenants/alpha/api-keys", auth: "alphaKey", status: 403, code: "auth.forbidden" },
  { name: "tenant key rotates token", method: "POST", path: "/api/system/token/rotate", auth: "alphaKey", status: 403, code: "auth.forbidden" },
  { name: "unknown route", method: "GET", path: "/api/nope", status: 404, code: "op.not_found" },
  { name: "unknown nested route", method: "GET", path: "/api/tenants/alpha/nothing", status: 404, code: "op.not_found" },
  { name: "dot segments not normalised", method: "GET", path: "/health/../api/tenants", auth: "none", status: 404, code: "op.not_found" },
  { name: "wrong method", method: "PUT", path: "/api/tenants", status: 405, code: "op.method_not_allowed" },
  { name: "delete missing tenant", method: "DELETE", path: "/api/tenants/missing", status: 404, code: "op.not_found" },
  { name: "encoded traversal in id", method: "DELETE", path: "/api/tenants/..%2Fetc", status: 400, code: "op.invalid_input" },
  { name: "bad percent-encoding", method: "DELETE", path: "/api/tenants/%ZZ", status: 400, code: "op.invalid_input" },
  { name: "NUL in id", method: "DELETE", path: "/api/tenants/a%00b", status: 400, code: "op.invalid_input" },
  { name: "reserved id in path", method: "DELETE", path: "/api/tenants/_system", status: 404, code: "op.not_found" },
  { name: "api key unknown field", method: "POST", path: "/api/tenants/alpha/api-keys", body: '{"nam":"x"}', status: 400, code: "op.invalid_input" },
  { name: "api key name wrong type", method: "POST", path: "/api/tenants/alpha/api-keys", body: '{"name":["x"]}', status: 400, code: "op.invalid_input" },
  { name: "api key for missing tenant", method: "POST", path: "/api/tenants/ghost/api-keys", body: "{}", status: 404, code: "op.not_found" },
  { name: "malformed key id", method: "DELETE", path: "/api/tenants/alpha/api-keys/not-hex", status: 400, code: "op.invalid_input" },
  { name: "unknown key id", method: "DELETE", path: "/api/tenants/alpha/api-keys/0123456789abcdef", status: 404, code: "op.not_found" },
  { name: "unknown query parameter", method: "GET", path: "/api/tenants?limit=5", status: 400, code: "op.invalid_input" },
  { name: "fields on a body-less route", method: "DELETE", path: "/api/tenants/beta", body: '{"force":true}', status: 400, code: "op.invalid_input" },
  { name: "array on a body-less route", method: "DELETE", path: "/api/tenants/beta", body: "[1]", status: 400, code: "op.invalid_input" },
];

function authHeaders(s: Scenario): Record<string, string> {
  const auth = s.auth ?? "admin";
  if (auth === "none") return {};
  if (auth === "admin") return { authorization: `Bearer ${srv.token()}` };
  if (auth === "alphaKey") return { "x-nimbus-api-key": alphaKey };
  if (auth === "revokedKey") return { authorization: `Bearer ${revokedKey}` };
  return { [auth.header]: auth.value };
}

test("the scenario table has at least 40 hostile requests", () => {
  assert.ok(SCENARIOS.length >= 40, `only ${SCENARIOS.length}`);
});

for (const s of SCENARIOS) {
  test(`${s.name}: ${s.method} ${s.path.slice(0, 60)} → ${s.status} ${s.code}`, async () => {
    const headers: Record<string, string> = { ...authHeaders(s), ...s.headers };
    if (s.body !== undefined && !headers["transfer-encoding"]) headers["content-length"] = String(Buffer.byteLength(s.body));
    const r = await rawRequest(srv.url, s.method, s.path, headers, s.body);
    assert.equal(r.status, s.status, r.text.slice(0, 300));
    assert.equal(r.json?.error?.code, s.code, r.text.slice(0, 300));
    assert.equal(typeof r.json.error.message, "string");
    assert.ok(r.json.error.message.length > 10, "the message says what went wrong");
    assert.match(r.json.error.requestId, /^req_[0-9a-z]{26}$/);
    assert.equal(r.headers["x-request-id"], r.json.error.requestId);
    assert.equal(typeof r.json.error.retryable, "boolean");
    assert.ok("detail" in r.json.error);
  });
}

test("after the hostile table the server still serves and lost nothing", async () => {
  const health = await rawRequest(srv.url, "GET", "/health");
  assert.equal(health.status, 200);
  assert.deepEqual(health.json, { ok: true });
  const list = await srv.request("GET", "/api/tenants");
  assert.deepEqual(list.body, { tenants: ["alpha", "beta"] });
  const keys = await srv.request("GET", "/api/tenants/alpha/api-keys");
  assert.equal(keys.body.items.length, 1);
  assert.equal(keys.body.items[0].name, "ci");
  assert.equal(JSON.stringify(keys.body).includes(alphaKey.slice(-20)), false, "the key secret is never listed");
});

test("405 names the allowed methods", async () => {
  const r = await rawRequest(srv.url, "PUT", "/api/tenants", { authorization: `Bearer ${srv.token()}` });
  assert.equal(r.headers["allow"], "POST, GET");
});
