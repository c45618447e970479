import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { NimbusError, NimbusInvalidInputError, NimbusNotFoundError } from "./errors.js";
import { sendJson, sendNdjson, startNdjson, withClient, writeLine } from "./testing/fake-server.js";

const image = { reference: "docker.io/library/alpine:3", digest: "sha256:abc", sizeBytes: 10, pulledAt: "t", layers: [] };

describe("images", () => {
  it("passes progress lines on, skips heartbeats, and rebuilds an error line as a typed error", async () => {
    await withClient(
      (req, res) => {
        const missing = (req.json as { reference: string }).reference === "missing";
        sendNdjson(res, [
          { type: "heartbeat" },
          { kind: "resolved", reference: image.reference, digest: "sha256:abc", layers: 1 },
          ...(missing
            ? [{ kind: "error", error: { code: "op.not_found", message: "no such image", requestId: "req_1", retryable: false, detail: null } }]
            : [
                { kind: "layer", digest: "sha256:l1", receivedBytes: 5, totalBytes: 10, done: false, cached: false },
                { kind: "done", image },
              ]),
        ]);
      },
      async (nimbus) => {
        const kinds: string[] = [];
        assert.deepEqual(await nimbus.images.pull({ reference: image.reference, onProgress: (p) => kinds.push(p.kind) }), image);
        assert.deepEqual(kinds, ["resolved", "layer", "done"]);
        await assert.rejects(
          nimbus.images.pull({ reference: "missing", onProgress: () => {} }),
          (e: unknown) => e instanceof NimbusNotFoundError && e.requestId === "req_1",
        );
      },
    );
  });

  it("turns a stream cut off mid-pull into a retryable client.network error", async () => {
    await withClient(
      (_req, res) => {
        startNdjson(res);
        writeLine(res, { kind: "resolved", reference: image.reference, digest: "sha256:abc", layers: 1 });
        setTimeout(() => res.destroy(), 20);
      },
      async (nimbus) => {
        await assert.rejects(
          nimbus.images.pull({ reference: image.reference, onProgress: () => {} }),
          (e: unknown) => e instanceof NimbusError && e.code === "client.network" && e.retryable && /broke during the pull/.test(e.message),
        );
      },
    );
  });

  it("loads a tarball from a file or a stream as the raw request body", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-sdk-load-"));
    try {
      const file = join(dir, "img.tar");
      writeFileSync(file, Buffer.alloc(200_000, 7));
      await withClient(
        (req, res) => sendJson(res, 201, { items: [{ ...image, sizeBytes: req.body.length }] }),
        async (nimbus, srv) => {
          assert.equal((await nimbus.images.load({ file }))[0]?.sizeBytes, 200_000);
          async function* parts() {
            yield new Uint8Array([1, 2, 3]);
            yield new Uint8Array([4]);
          }
          assert.equal((await nimbus.images.load({ stream: parts() }))[0]?.sizeBytes, 4);
          assert.deepEqual(
            srv.requests.map((r) => `${r.method} ${r.rawPath} ${r.headers["content-type"]}`),
            ["POST /api/images/load application/x-tar", "POST /api/images/load application/x-tar"],
          );
          assert.ok(srv.requests[0]!.body.equals(Buffer.alloc(200_000, 7)));
          await assert.rejects(
            nimbus.images.load({ file: join(dir, "nope.tar") }),
            (e: unknown) => e instanceof NimbusInvalidInputError && /nope\.tar \(ENOENT\)/.test(e.message),
          );
          assert.equal(srv.requests.length, 2, "a missing file sends nothing");
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
