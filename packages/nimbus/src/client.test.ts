import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Nimbus } from "./client.js";
import { sendJson, startServer } from "./testing/fake-server.js";
import { sandbox } from "./testing/resources.js";
import { SDK_VERSION } from "./version.js";

describe("request core", () => {
  it("sends user-agent, credential, JSON content-type, and encodes path params", async () => {
    const srv = await startServer((req, res) => sendJson(res, 201, sandbox("a/b?c", "starting")));
    try {
      const nimbus = new Nimbus({ endpoint: `${srv.url}/`, token: "tok", tenantId: "demo" });
      await nimbus.sandboxes.get({ id: "a/b?c#d" });
      await nimbus.sandboxes.stop({ id: "../x y", tenantId: "other" });
      const [get, stop] = srv.requests;
      assert.equal(get?.rawPath, "/api/tenants/demo/sandboxes/a%2Fb%3Fc%23d");
      assert.equal([...(get?.query.keys() ?? [])].length, 0);
      assert.equal(get?.headers["user-agent"], `nimbus-sdk/${SDK_VERSION}`);
      assert.equal(get?.headers.authorization, "Bearer tok");
      assert.equal(stop?.rawPath, "/api/tenants/other/sandboxes/..%2Fx%20y/stop");
      assert.equal(stop?.headers["content-type"], "application/json");
      assert.deepEqual(stop?.json, {});
    } finally {
      await srv.close();
    }
  });

  it("refuses ids that would address another route", async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, {}));
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" });
      for (const id of ["", ".", ".."]) await assert.rejects(nimbus.sandboxes.get({ id }), { code: "op.invalid_input" });
      assert.equal(srv.requests.length, 0);
    } finally {
      await srv.close();
    }
  });

  it("uses the per-call tenant over the client's", async () => {
    const srv = await startServer((req, res) =>
      sendJson(res, 200, { metadata: { tenantId: "x", resourceVersion: "1", limit: 100, remainingCount: 0 }, items: [] }),
    );
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, apiKey: "key", tenantId: "demo" });
      await nimbus.sandboxes.list();
      await nimbus.sandboxes.list({ tenantId: "acme" });
      await nimbus.sessions.list({ tenantId: "acme" });
      assert.deepEqual(
        srv.requests.map((r) => r.rawPath),
        ["/api/tenants/demo/sandboxes", "/api/tenants/acme/sandboxes", "/api/sessions"],
      );
      assert.equal(srv.requests[2]?.query.get("tenantId"), "acme");
      assert.equal(srv.requests[0]?.headers["x-nimbus-api-key"], "key");
    } finally {
      await srv.close();
    }
  });

  it("uses the fetch option instead of the global fetch", async () => {
    const seen: string[] = [];
    const fake: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(JSON.stringify({ tenants: ["t1"] }), { status: 200, headers: { "content-type": "application/json" } });
    };
    const nimbus = new Nimbus({ endpoint: "http://nimbus.invalid:8080", token: "t", fetch: fake });
    assert.deepEqual(await nimbus.tenants.list(), ["t1"]);
    assert.deepEqual(seen, ["http://nimbus.invalid:8080/api/tenants"]);
  });

  it("rejects with the caller's abort reason", async () => {
    const srv = await startServer(() => {});
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t" });
      const ac = new AbortController();
      const pending = nimbus.tenants.list({ signal: ac.signal });
      setTimeout(() => ac.abort(new Error("caller gave up")), 20);
      await assert.rejects(pending, /caller gave up/);
    } finally {
      await srv.close();
    }
  });

  it("checks health without a credential", async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, { ok: true }));
    try {
      assert.deepEqual(await new Nimbus({ endpoint: srv.url }).health(), { ok: true });
      assert.equal(srv.requests[0]?.headers.authorization, undefined);
    } finally {
      await srv.close();
    }
  });

  it("keeps SDK_VERSION equal to package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(SDK_VERSION, pkg.version);
  });
});
