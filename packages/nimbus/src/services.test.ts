import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { NimbusConflictError, NimbusPreconditionError } from "./errors.js";
import { imageServiceSpec } from "./service-spec.js";
import { sendError, sendJson, startNdjson, until, withClient, writeLine } from "./testing/fake-server.js";
import type { ServiceSpec, ServiceView } from "./types/service.js";

const spec: ServiceSpec = imageServiceSpec({ image: "alpine:3", process: { argv: ["sleep", "infinity"] }, restartPolicy: "on_failure" });

const view = (lifecycleState: ServiceView["lifecycleState"], state: ServiceView["state"] = "running"): ServiceView => ({
  tenantId: "demo",
  name: "worker",
  generation: 1,
  sandboxId: "worker-1",
  backend: "container",
  state,
  lifecycleState,
  readiness: "not_ready",
  health: "unknown",
  endpoints: [],
  restartCount: 0,
});

describe("services", () => {
  it("imageServiceSpec writes the contract's nested form and leaves out what is not given", () => {
    const root = { kind: "oci_image", source: { kind: "reference", reference: "alpine:3" } } as const;
    assert.deepEqual(imageServiceSpec({ image: "alpine:3", ports: [] }), {
      backend: { kind: "sandbox", sandbox: { owner: { kind: "service" }, backend: "container", root } },
    });
    const probe = { tcp: { port: 80 } };
    const full = imageServiceSpec({
      image: "alpine:3",
      process: { argv: ["httpd"] },
      ports: [{ port: 80 }],
      restartPolicy: "never",
      maxRestarts: 0,
      readinessProbe: probe,
    });
    assert.deepEqual(full.backend, {
      kind: "sandbox",
      sandbox: { owner: { kind: "service" }, backend: "container", root, process: { argv: ["httpd"] }, ports: [{ port: 80 }] },
    });
    assert.deepEqual([full.restartPolicy, full.maxRestarts, full.readinessProbe], ["never", 0, probe]);
  });

  it("uses the definition envelope and generation preconditions", async () => {
    await withClient(
      (req, res) => {
        if (req.method === "DELETE") return void res.writeHead(204).end();
        if (req.method === "PUT") return sendError(res, 412, "op.precondition_failed", "stale generation");
        sendJson(res, 201, { metadata: { tenantId: "demo", name: "worker", generation: 1, createdAt: "t", updatedAt: "t", labels: {} }, spec });
      },
      async (nimbus, srv) => {
        const def = await nimbus.services.create({ metadata: { name: "worker", labels: { a: "b" } }, spec });
        assert.equal(def.metadata.generation, 1);
        await assert.rejects(nimbus.services.update({ metadata: { name: "worker", generation: 0 }, spec }), NimbusPreconditionError);
        await nimbus.services.delete({ name: "worker", ifMatchGeneration: 2, force: true });
        await nimbus.services.delete({ name: "worker", ifMatchGeneration: 2 });
        const [create, update, del, delPlain] = srv.requests;
        assert.deepEqual([create?.rawPath, create?.json], ["/api/tenants/demo/services", { metadata: { name: "worker", labels: { a: "b" } }, spec }]);
        assert.deepEqual(
          [update?.method, update?.rawPath, update?.json],
          ["PUT", "/api/tenants/demo/services/worker", { metadata: { name: "worker", generation: 0 }, spec }],
        );
        assert.deepEqual([del?.rawPath, del?.query.toString()], ["/api/tenants/demo/services/worker", "ifMatchGeneration=2&force=true"]);
        assert.equal(delPlain?.query.toString(), "ifMatchGeneration=2");
      },
    );
  });

  it("requestRestart sends upstream's {sourceGeneration, requestId} and returns the receipt; a stale generation is a precondition error", async () => {
    const receipt = {
      kind: "ServiceRestart",
      restartId: "r-1",
      requestId: "r-1",
      tenantId: "demo",
      name: "worker",
      sourceGeneration: 2,
      sandboxId: "worker-2",
      acceptedAt: "t",
    };
    await withClient(
      (req, res) => {
        if ((req.json as { sourceGeneration?: number }).sourceGeneration === 1) return sendError(res, 412, "op.precondition_failed", "stale generation");
        sendJson(res, 202, receipt);
      },
      async (nimbus, srv) => {
        assert.deepEqual(await nimbus.services.requestRestart({ name: "worker", sourceGeneration: 2, requestId: "r-1" }), receipt);
        await assert.rejects(nimbus.services.requestRestart({ name: "worker", sourceGeneration: 1 }), NimbusPreconditionError);
        await assert.rejects(nimbus.services.requestRestart({ name: "worker" }), TypeError);
        const [ok, stale] = srv.requests;
        assert.deepEqual([ok?.method, ok?.rawPath, ok?.json], ["POST", "/api/tenants/demo/services/worker/restart", { sourceGeneration: 2, requestId: "r-1" }]);
        assert.deepEqual(stale?.json, { sourceGeneration: 1 });
        assert.equal(srv.requests.length, 2, "no request without sourceGeneration or requestId");
      },
    );
  });

  it("start with waitUntil waits on the service event stream", async () => {
    let events: ServerResponse | undefined;
    await withClient(
      (req, res) => {
        if (req.rawPath.endsWith("/events")) {
          events = res;
          startNdjson(res);
          return;
        }
        sendJson(res, 200, view("starting"));
      },
      async (nimbus, srv) => {
        const started = nimbus.services.start({ name: "worker", waitUntil: "ready", timeoutMs: 5000 });
        await until(() => srv.requests.length === 3);
        writeLine(events!, { type: "heartbeat" });
        writeLine(events!, { type: "service", action: "updated", resource: view("ready") });
        assert.equal((await started).lifecycleState, "ready");
        const [start, stream, get] = srv.requests;
        assert.deepEqual([start?.method, start?.rawPath], ["POST", "/api/tenants/demo/services/worker/start"]);
        assert.deepEqual([stream?.rawPath, stream?.query.toString()], ["/api/tenants/demo/events", "kind=service&name=worker"]);
        assert.equal(get?.rawPath, "/api/tenants/demo/services/worker");
      },
    );
  });

  it("wait fails with op.conflict when the service fails", async () => {
    await withClient(
      (req, res) => {
        if (req.rawPath.endsWith("/events")) return startNdjson(res);
        sendJson(res, 200, view("failed", "failed"));
      },
      async (nimbus) => {
        await assert.rejects(
          nimbus.services.wait({ name: "worker", until: "ready" }),
          (e: unknown) => e instanceof NimbusConflictError && e.detail?.lifecycleState === "failed",
        );
      },
    );
  });

  it("stop, restart, list and get hit the named routes", async () => {
    await withClient(
      (req, res) => sendJson(res, 200, req.rawPath.endsWith("/services") ? { metadata: {}, items: [view("ready")] } : view("ready")),
      async (nimbus, srv) => {
        await nimbus.services.stop({ name: "worker" });
        await nimbus.services.restart({ name: "worker" });
        assert.equal((await nimbus.services.list()).items[0]?.name, "worker");
        assert.equal((await nimbus.services.get({ name: "a b" })).name, "worker");
        assert.deepEqual(srv.requestLines(), [
          "POST /api/tenants/demo/services/worker/stop",
          "POST /api/tenants/demo/services/worker/restart",
          "GET /api/tenants/demo/services",
          "GET /api/tenants/demo/services/a%20b",
        ]);
      },
    );
  });
});
