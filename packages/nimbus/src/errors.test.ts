import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Nimbus } from "./client.js";
import {
  NimbusAuthError,
  NimbusConflictError,
  NimbusError,
  NimbusInvalidInputError,
  NimbusNotFoundError,
  NimbusPreconditionError,
  NimbusRateLimitError,
  NimbusUnavailableError,
  STATUS_BY_CODE,
  fromWire,
} from "./errors.js";
import { sendError, startServer } from "./testing/fake-server.js";

const envelope = (code: string) => ({ error: { code, message: `m ${code}`, requestId: "req_body", retryable: false, detail: { k: 1 } } });

describe("fromWire", () => {
  const table: Array<[string, new (...a: never[]) => NimbusError]> = [
    ["op.not_found", NimbusNotFoundError],
    ["op.conflict", NimbusConflictError],
    ["op.already_exists", NimbusConflictError],
    ["op.precondition_failed", NimbusPreconditionError],
    ["auth.unauthorized", NimbusAuthError],
    ["auth.forbidden", NimbusAuthError],
    ["rate.resource_exhausted", NimbusRateLimitError],
    ["op.invalid_input", NimbusInvalidInputError],
    ["service.unavailable", NimbusUnavailableError],
  ];
  for (const [code, Cls] of table) {
    it(`rebuilds ${code} as ${Cls.name}`, () => {
      const status = STATUS_BY_CODE[code] ?? 0;
      const err = fromWire(status, JSON.stringify(envelope(code)), "req_header");
      assert.ok(err instanceof Cls);
      assert.ok(err instanceof NimbusError);
      assert.equal(err.name, Cls.name);
      assert.deepEqual([err.code, err.status, err.requestId, err.message, err.detail], [code, status, "req_body", `m ${code}`, { k: 1 }]);
    });
  }

  it("keeps unknown codes as a plain NimbusError and accepts parsed bodies", () => {
    const err = fromWire(500, envelope("service.internal"));
    assert.equal(err.constructor, NimbusError);
    assert.equal(err.code, "service.internal");
  });

  it("turns a non-JSON body into service.internal with the status and text", () => {
    const err = fromWire(502, "<html>Bad Gateway</html>", "req_h");
    assert.equal(err.constructor, NimbusError);
    assert.deepEqual([err.code, err.status, err.requestId, err.retryable], ["service.internal", 502, "req_h", true]);
    assert.match(err.message, /Bad Gateway/);
    assert.equal(fromWire(400, JSON.stringify({ nope: 1 })).code, "service.internal");
  });
});

describe("errors over HTTP", () => {
  it("throws the typed error with the body's requestId", async () => {
    const srv = await startServer((_req, res) => sendError(res, 404, "op.not_found", "sandbox `x` was not found", "req_from_body"));
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" });
      await assert.rejects(nimbus.sandboxes.get({ id: "x" }), (e: unknown) => {
        assert.ok(e instanceof NimbusNotFoundError);
        assert.deepEqual([e.status, e.requestId, e.message, e.retryable], [404, "req_from_body", "sandbox `x` was not found", false]);
        return true;
      });
    } finally {
      await srv.close();
    }
  });

  it("handles a non-JSON error body", async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(502, { "content-type": "text/plain", "x-request-id": "req_proxy" });
      res.end("upstream down");
    });
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t" });
      await assert.rejects(
        nimbus.tenants.list(),
        (e: unknown) =>
          e instanceof NimbusError && e.code === "service.internal" && e.status === 502 && e.requestId === "req_proxy" && /upstream down/.test(e.message),
      );
    } finally {
      await srv.close();
    }
  });

  it("reports an unreachable server as client.network naming the endpoint", async () => {
    const srv = await startServer(() => {});
    const endpoint = srv.url;
    await srv.close();
    const nimbus = new Nimbus({ endpoint, token: "t" });
    await assert.rejects(nimbus.tenants.list(), (e: unknown) => {
      assert.ok(e instanceof NimbusError);
      assert.deepEqual([e.code, e.status, e.retryable], ["client.network", 0, true]);
      assert.ok(e.message.includes(endpoint), e.message);
      return true;
    });
  });
});
