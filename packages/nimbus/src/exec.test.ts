import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NimbusError, NimbusNotFoundError } from "./errors.js";
import { sendNdjson, startNdjson, withClient, writeLine } from "./testing/fake-server.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("sandboxes.exec", () => {
  it("sends the exec body and assembles stdout, stderr and the exit code", async () => {
    await withClient(
      (_req, res) => {
        sendNdjson(res, [
          { kind: "stdout", data: b64("hel"), encoding: "base64" },
          { kind: "stderr", data: b64("warn\n"), encoding: "base64" },
          { type: "heartbeat" },
          { kind: "stdout", data: b64("lo\n"), encoding: "base64" },
          { kind: "exit", code: 3 },
        ]);
      },
      async (nimbus, srv) => {
        const r = await nimbus.sandboxes.exec({ id: "box/1", argv: ["sh", "-c", "x"], env: { A: "1" }, cwd: "/w", stdin: "in", timeoutMs: 5000 });
        assert.deepEqual([r.exitCode, r.stdout.toString(), r.stderr.toString()], [3, "hello\n", "warn\n"]);
        const req = srv.requests[0];
        assert.equal(req?.rawPath, "/api/tenants/demo/sandboxes/box%2F1/exec");
        assert.equal(req?.headers.accept, "application/x-ndjson");
        assert.deepEqual(req?.json, { argv: ["sh", "-c", "x"], env: ["A=1"], cwd: "/w", stdin: b64("in"), timeoutMs: 5000 });
      },
    );
  });

  it("streams frames with execStream", async () => {
    await withClient(
      (_req, res) => {
        sendNdjson(res, [
          { kind: "stdout", data: b64("x"), encoding: "base64" },
          // The server's heartbeat line (api/ndjson.ts) is not a frame.
          { type: "heartbeat" },
          { kind: "exit", code: 0 },
        ]);
      },
      async (nimbus) => {
        const kinds = [];
        for await (const f of nimbus.sandboxes.execStream({ id: "box", argv: ["true"] })) kinds.push(f.kind);
        assert.deepEqual(kinds, ["stdout", "exit"]);
      },
    );
  });

  it("throws an error frame as its typed error, and a cut stream as client.protocol", async () => {
    let n = 0;
    await withClient(
      (_req, res) => {
        startNdjson(res);
        if (n++ === 0) {
          writeLine(res, {
            kind: "error",
            error: { code: "op.not_found", message: "no such binary: nope", requestId: "req_x", retryable: false, detail: null },
          });
        } else {
          writeLine(res, { kind: "stdout", data: b64("partial"), encoding: "base64" });
        }
        res.end();
      },
      async (nimbus) => {
        await assert.rejects(nimbus.sandboxes.exec({ id: "box", argv: ["nope"] }), (e: unknown) => {
          assert.ok(e instanceof NimbusNotFoundError);
          assert.deepEqual([e.status, e.requestId, e.message], [404, "req_x", "no such binary: nope"]);
          return true;
        });
        await assert.rejects(nimbus.sandboxes.exec({ id: "box", argv: ["x"] }), (e: unknown) => e instanceof NimbusError && e.code === "client.protocol");
      },
    );
  });
});
