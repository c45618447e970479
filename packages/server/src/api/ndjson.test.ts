/**
 * NDJSON responses carry exactly `application/x-ndjson` (issue 16, closer to
 * the upstream wire): upstream's clients compare the header whole, so a
 * `; charset=utf-8` suffix makes them miss the stream.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../testing/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "nd" } })).status, 201);
});
after(async () => {
  await srv?.close();
});

test("the event stream answers with exactly application/x-ndjson", async () => {
  const ac = new AbortController();
  const res = await fetch(`${srv.url}/api/tenants/nd/events`, { headers: { authorization: `Bearer ${srv.token()}` }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  ac.abort();
  await res.body?.cancel().catch(() => undefined);
});
