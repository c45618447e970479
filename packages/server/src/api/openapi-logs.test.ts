/**
 * /openapi.json comes from the same route table that serves requests, and
 * the structured request log never carries a credential.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../log.js";
import { startTestServer, type TestServer } from "../testing/server.js";

let srv: TestServer;
const lines: string[] = [];

before(async () => {
  srv = await startTestServer({ log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }) });
});
after(() => srv.close());

test("/openapi.json lists every route the server answers, with its schemas", async () => {
  const doc = (await (await fetch(srv.url + "/openapi.json")).json()) as { openapi: string; paths: Record<string, Record<string, any>> };
  assert.equal(doc.openapi, "3.1.0");
  for (const r of srv.server.app.routes) {
    const path = r.path.replace(/[:*]([A-Za-z]+)/g, "{$1}");
    assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} is documented`);
  }
  const create = doc.paths["/api/tenants"]!.post;
  assert.equal(create.requestBody.content["application/json"].schema.additionalProperties, false);
  assert.ok(doc.paths["/api/tenants/{tenantId}/sandboxes"]!.post.requestBody, "the sandbox create body schema is published");
});

test("request logs are structured JSON with request ids and never a token or key", async () => {
  const token = srv.token();
  await srv.request("POST", "/api/tenants", { body: { id: "logged" } });
  const key = (await srv.request("POST", "/api/tenants/logged/api-keys", { body: {} })).body.key as string;
  await fetch(srv.url + "/api/tenants/logged/sandboxes", { headers: { "x-nimbus-api-key": key } });
  await fetch(srv.url + "/api/tenants", { headers: { authorization: "Bearer nimbus_at_wrong-token-value" } });
  const all = lines.join("\n");
  assert.ok(lines.length > 0);
  for (const l of lines) JSON.parse(l);
  assert.ok(lines.some((l) => /"requestId":"req_/.test(l) && /"path":"\/api\/tenants"/.test(l)));
  // The key's secret part is everything after `nimbus_ak_<16 hex id>_` (base64url, which may itself hold "_").
  const keySecret = key.slice("nimbus_ak_".length + 17);
  assert.equal(keySecret.length, 43);
  for (const secret of [token, key, keySecret, "wrong-token-value"]) assert.equal(all.includes(secret), false, "a credential reached the log");
});
