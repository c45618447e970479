/**
 * (ext) Tenant egress ceilings over HTTP: the default until the operator sets
 * one, set and read back, checked field by field, admin-only, gone with the
 * tenant.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../testing/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  await srv.request("POST", "/api/tenants", { body: { id: "demo" } });
});
after(() => srv.close());

test("the default ceiling, then the operator's", async () => {
  const d = await srv.request("GET", "/api/tenants/demo/egress");
  assert.deepEqual(d.body, { hosts: ["*"], ports: [80, 443], allowAddresses: false, custom: false, updatedAt: null });
  const set = await srv.request("PUT", "/api/tenants/demo/egress", {
    body: { hosts: ["*.Corp.test", "198.18.0.0/24"], ports: [443, "8000-8099"], allowAddresses: true },
  });
  assert.equal(set.status, 200);
  assert.deepEqual([set.body.hosts, set.body.ports, set.body.custom], [["*.corp.test", "198.18.0.0/24"], [443, "8000-8099"], true]);
  assert.deepEqual((await srv.request("GET", "/api/tenants/demo/egress")).body, set.body);
});

test("bad ceilings are 400s naming the field; tenant keys may not touch them; unknown tenants are 404", async () => {
  for (const [body, field] of [
    [{ hosts: ["198.18.0.0/24"], ports: [443], allowAddresses: false }, "hosts[0]"],
    [{ hosts: ["*.test"], ports: [443], allowAddresses: false }, "hosts[0]"],
    [{ hosts: ["*"], ports: ["90-80"], allowAddresses: false }, "ports[0]"],
    [{ hosts: ["*"], ports: [0], allowAddresses: false }, "ports"],
  ] as const) {
    const r = await srv.request("PUT", "/api/tenants/demo/egress", { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(String(r.body.error.detail?.field), new RegExp(field.replace(/[[\]]/g, "\\$&")));
  }
  const key = (await srv.request("POST", "/api/tenants/demo/api-keys", { body: {} })).body.key as string;
  const asTenant = await srv.request("PUT", "/api/tenants/demo/egress", {
    body: { hosts: ["*"], ports: ["1-65535"], allowAddresses: true },
    headers: { authorization: "", "x-nimbus-api-key": key },
  });
  assert.equal(asTenant.status, 403, "a tenant cannot raise its own ceiling");
  assert.equal((await srv.request("GET", "/api/tenants/nobody/egress")).status, 404);
});
