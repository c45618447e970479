import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sendJson, withClient } from "./testing/fake-server.js";
import { session } from "./testing/resources.js";

describe("sessions", () => {
  it("sends the tenant in the body for open/renew and in the query for get/list/close", async () => {
    await withClient(
      (_req, res) => sendJson(res, 200, session("ses-1", "box-1")),
      async (nimbus, srv) => {
        const s = await nimbus.sessions.open({ target: { sandbox: { id: "box-1" } }, channels: ["stdio"], requestedTtlMs: 300_000 });
        assert.equal(s.spec.expiresAt, "2026-11-28T10:05:00.000Z");
        await nimbus.sessions.get({ id: "ses/1" });
        await nimbus.sessions.list({ state: "open", limit: 3, tenantId: "acme" });
        await nimbus.sessions.close({ id: "ses-1", reason: "done" });
        await nimbus.sessions.close({ id: "ses-1" });
        await nimbus.sessions.renew({ id: "ses-1", requestedTtlMs: 1000 });
        const [open, get, list, close, closeBare, renew] = srv.requests;
        assert.deepEqual(
          [open?.method, open?.rawPath, open?.json],
          ["POST", "/api/sessions", { tenantId: "demo", target: { sandbox: { id: "box-1" } }, channels: ["stdio"], requestedTtlMs: 300_000 }],
        );
        assert.deepEqual([get?.rawPath, get?.query.toString()], ["/api/sessions/ses%2F1", "tenantId=demo"]);
        assert.deepEqual(
          [list?.rawPath, list?.query.toString()],
          ["/api/sessions", "tenantId=acme&limit=3&state=open"],
          "the filter goes as upstream's `state`",
        );
        assert.deepEqual([close?.rawPath, close?.query.toString(), close?.json], ["/api/sessions/ses-1/close", "tenantId=demo", { reason: "done" }]);
        assert.deepEqual(closeBare?.json, {});
        assert.deepEqual([renew?.rawPath, renew?.json], ["/api/sessions/ses-1/renew", { tenantId: "demo", requestedTtlMs: 1000 }]);
      },
    );
  });
});
