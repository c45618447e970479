import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, it } from "node:test";
import { sendJson, sendNdjson, withClient } from "./testing/fake-server.js";
import { sandbox } from "./testing/resources.js";

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("files", () => {
  it("writes a streamed body and reads it back with a verified sha256", async () => {
    const stored = new Map<string, Buffer>();
    await withClient(
      (req, res) => {
        const path = req.query.get("path") ?? "";
        if (req.method === "PUT") {
          stored.set(path, req.body);
          return sendJson(res, 200, { sizeBytes: req.body.length, sha256: sha(req.body) });
        }
        const data = stored.get(path) ?? Buffer.alloc(0);
        const announced = path === "/corrupt" ? sha("other") : sha(data);
        res.writeHead(200, { "content-type": "application/octet-stream", "x-content-sha256": announced });
        res.end(data);
      },
      async (nimbus, srv) => {
        const chunks = Readable.from([Buffer.from("hello "), Buffer.from("world")]);
        const put = await nimbus.files.write({ sandboxId: "box", path: "/tmp/a b", data: chunks, mode: 0o755 });
        assert.deepEqual(put, { sizeBytes: 11, sha256: sha("hello world") });
        assert.equal(srv.requests[0]?.rawPath, "/api/tenants/demo/sandboxes/box/files/content");
        assert.equal(srv.requests[0]?.query.toString(), "path=%2Ftmp%2Fa+b&mode=755");
        assert.equal(srv.requests[0]?.headers["content-type"], "application/octet-stream");
        const got = await nimbus.files.read({ sandboxId: "box", path: "/tmp/a b" });
        assert.deepEqual([got.data.toString(), got.sha256], ["hello world", sha("hello world")]);
        assert.equal(await text(await nimbus.files.readStream({ sandboxId: "box", path: "/tmp/a b" })), "hello world");
        stored.set("/corrupt", Buffer.from("x"));
        await assert.rejects(nimbus.files.read({ sandboxId: "box", path: "/corrupt" }), { code: "client.protocol" });
      },
    );
  });
});

describe("files: tree and archive", () => {
  it("sends list/stat as GET queries, mkdir/remove/rename as JSON, and archives as tar bodies", async () => {
    await withClient(
      (req, res) => {
        if (req.method === "GET" && req.rawPath.endsWith("/archive")) {
          res.writeHead(200, { "content-type": "application/x-tar" });
          res.end("TAR");
          return;
        }
        return sendJson(res, 200, {
          echoed: req.method === "GET" ? Object.fromEntries(req.query) : req.method === "PUT" ? req.body.toString() : JSON.parse(req.body.toString()),
        });
      },
      async (nimbus, srv) => {
        const base = "/api/tenants/demo/sandboxes/box/files";
        assert.deepEqual(await nimbus.files.list({ sandboxId: "box", path: "/a", depth: 2 }), { echoed: { path: "/a", depth: "2" } });
        assert.deepEqual(await nimbus.files.stat({ sandboxId: "box", path: "/a" }), { echoed: { path: "/a" } });
        assert.deepEqual(await nimbus.files.mkdir({ sandboxId: "box", path: "/a/b", parents: true }), { echoed: { path: "/a/b", parents: true } });
        assert.deepEqual(await nimbus.files.remove({ sandboxId: "box", path: "/a", recursive: true }), { echoed: { path: "/a", recursive: true } });
        assert.deepEqual(await nimbus.files.rename({ sandboxId: "box", from: "/a", to: "/b" }), { echoed: { from: "/a", to: "/b" } });
        assert.deepEqual(await nimbus.files.uploadArchive({ sandboxId: "box", path: "/d", data: Buffer.from("tarball") }), { echoed: "tarball" });
        assert.equal(await text(await nimbus.files.downloadArchive({ sandboxId: "box", path: "/d" })), "TAR");
        assert.deepEqual(
          srv.requestLines(),
          ["GET list", "GET stat", "POST mkdir", "POST remove", "POST rename", "PUT archive", "GET archive"].map((m) => m.replace(" ", ` ${base}/`)),
        );
        assert.equal(srv.requests[5]?.headers["content-type"], "application/x-tar");
      },
    );
  });
});

describe("events", () => {
  it("streams parsed events without heartbeats", async () => {
    await withClient(
      (_req, res) => {
        sendNdjson(res, [
          { type: "heartbeat" },
          { type: "sandbox", action: "created", resource: sandbox("box", "pending") },
          { type: "sandbox", action: "updated", resource: sandbox("box", "ready") },
        ]);
      },
      async (nimbus, srv) => {
        const seen: string[] = [];
        for await (const e of nimbus.events.stream({ kind: "sandbox", tenantId: "acme" })) seen.push(`${e.type}:${e.action}`);
        assert.deepEqual(seen, ["sandbox:created", "sandbox:updated"]);
        assert.deepEqual([srv.requests[0]?.rawPath, srv.requests[0]?.query.toString()], ["/api/tenants/acme/events", "kind=sandbox"]);
      },
    );
  });
});
