import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NimbusConflictError } from "./errors.js";
import { sendError, sendJson, startNdjson, withClient, writeLine } from "./testing/fake-server.js";

const image = { reference: "docker.io/library/alpine:3", digest: "sha256:abc", sizeBytes: 10, pulledAt: "t", layers: 1 };

describe("admin namespaces", () => {
  it("manages tenants and API keys", async () => {
    await withClient(
      (req, res) => {
        if (req.method === "DELETE") return void res.writeHead(204).end();
        if (req.rawPath === "/api/tenants" && req.method === "POST") {
          return (req.json as { id: string }).id === "taken" ? sendError(res, 409, "op.already_exists", "exists") : sendJson(res, 201, req.json);
        }
        if (req.rawPath === "/api/tenants") return sendJson(res, 200, { tenants: ["acme", "demo"] });
        if (req.method === "POST") return sendJson(res, 201, { id: "k1", key: "nimbus_tk_secret", name: "ci", createdAt: "t" });
        sendJson(res, 200, { items: [{ id: "k1", name: "ci", createdAt: "t" }] });
      },
      async (nimbus, srv) => {
        assert.deepEqual(await nimbus.tenants.create({ id: "demo" }), { id: "demo" });
        await assert.rejects(nimbus.tenants.create({ id: "taken" }), (e: unknown) => e instanceof NimbusConflictError && e.code === "op.already_exists");
        assert.deepEqual(await nimbus.tenants.list(), ["acme", "demo"]);
        await nimbus.tenants.delete({ id: "demo" });
        assert.equal((await nimbus.tenants.apiKeys.create({ tenantId: "demo", name: "ci" })).key, "nimbus_tk_secret");
        assert.deepEqual(await nimbus.tenants.apiKeys.list({ tenantId: "demo" }), [{ id: "k1", name: "ci", createdAt: "t" }]);
        await nimbus.tenants.apiKeys.revoke({ tenantId: "demo", id: "k1" });
        assert.deepEqual(srv.requestLines(), [
          "POST /api/tenants",
          "POST /api/tenants",
          "GET /api/tenants",
          "DELETE /api/tenants/demo",
          "POST /api/tenants/demo/api-keys",
          "GET /api/tenants/demo/api-keys",
          "DELETE /api/tenants/demo/api-keys/k1",
        ]);
        assert.deepEqual(srv.requests[4]?.json, { name: "ci" });
      },
    );
  });

  it("switches to the rotated admin token", async () => {
    await withClient(
      (req, res) => sendJson(res, 200, req.rawPath === "/api/system/token/rotate" ? { generation: 2, token: "new-token" } : { tenants: [] }),
      async (nimbus, srv) => {
        assert.deepEqual(await nimbus.system.rotateToken(), { generation: 2, token: "new-token" });
        await nimbus.tenants.list();
        assert.equal(srv.requests[0]?.headers.authorization, "Bearer t");
        assert.equal(srv.requests[1]?.headers.authorization, "Bearer new-token");
      },
    );
  });

  it("pulls images with and without progress, lists, removes by encoded reference, prunes", async () => {
    await withClient(
      (req, res) => {
        if (req.rawPath === "/api/images/pull" && req.headers.accept === "application/x-ndjson") {
          startNdjson(res);
          writeLine(res, { kind: "resolved", digest: "sha256:abc" });
          writeLine(res, { kind: "layer", digest: "sha256:l1", sizeBytes: 10 });
          writeLine(res, { kind: "done", image });
          return void res.end();
        }
        if (req.rawPath === "/api/images/pull") return sendJson(res, 200, image);
        if (req.method === "DELETE") return void res.writeHead(204).end();
        if (req.rawPath === "/api/images/prune") return sendJson(res, 200, { removedImages: 1, removedLayers: 2, freedBytes: 3 });
        sendJson(res, 200, { items: [image] });
      },
      async (nimbus, srv) => {
        assert.deepEqual(await nimbus.images.pull({ reference: image.reference }), image);
        const kinds: string[] = [];
        assert.deepEqual(await nimbus.images.pull({ reference: image.reference, onProgress: (p) => kinds.push(p.kind) }), image);
        assert.deepEqual(kinds, ["resolved", "layer", "done"]);
        assert.deepEqual(await nimbus.images.list(), [image]);
        await nimbus.images.remove({ reference: image.reference });
        assert.equal((await nimbus.images.prune()).freedBytes, 3);
        assert.deepEqual(srv.requests[0]?.json, { reference: image.reference });
        assert.equal(srv.requests[3]?.rawPath, "/api/images/docker.io%2Flibrary%2Falpine%3A3");
      },
    );
  });
});
