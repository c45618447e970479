import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it } from "node:test";
import type { Nimbus } from "./client.js";
import { NimbusConflictError, NimbusError } from "./errors.js";
import { type Handler, sendJson, sendNdjson, startNdjson, until, withClient, writeLine } from "./testing/fake-server.js";
import { sandbox } from "./testing/resources.js";
import type { SandboxSpec } from "./types/sandbox.js";

const spec: SandboxSpec = {
  owner: { kind: "standalone", displayName: "agent-task" },
  backend: "container",
  root: { kind: "oci_image", source: { kind: "reference", reference: "docker.io/library/node:22-alpine" } },
  process: { argv: ["node", "-e", "1"] },
};

describe("sandboxes CRUD", () => {
  it("extend posts addSeconds or expiresAt; delete passes gracePeriodMs as a query", async () => {
    await withClient(
      (req, res) => {
        if (req.method !== "DELETE") return sendJson(res, 200, sandbox("s1", "ready"));
        res.writeHead(204).end();
      },
      async (nimbus, srv) => {
        await nimbus.sandboxes.extend({ tenantId: "acme", id: "s1", addSeconds: 600 });
        assert.equal(srv.requests[0]?.rawPath, "/api/tenants/acme/sandboxes/s1/extend");
        assert.deepEqual(srv.requests[0]?.json, { addSeconds: 600 });
        await nimbus.sandboxes.extend({ tenantId: "acme", id: "s1", expiresAt: "2030-01-01T00:00:00Z" });
        assert.deepEqual(srv.requests[1]?.json, { expiresAt: "2030-01-01T00:00:00Z" });
        await nimbus.sandboxes.delete({ tenantId: "acme", id: "s1", gracePeriodMs: 0 });
        assert.equal(srv.requests[2]?.query.toString(), "gracePeriodMs=0");
      },
    );
  });

  it("creates with exactly {profile, spec, labels} and lists with filters", async () => {
    await withClient(
      (req, res) => (req.method === "POST" ? sendJson(res, 201, sandbox("agent-task-1", "starting")) : sendJson(res, 200, { metadata: {}, items: [] })),
      async (nimbus, srv) => {
        const s = await nimbus.sandboxes.create({ tenantId: "acme", profile: "worker", spec, labels: { purpose: "q" } });
        assert.equal(s.status.lifecycleState, "starting");
        assert.equal(srv.requests[0]?.rawPath, "/api/tenants/acme/sandboxes");
        assert.deepEqual(srv.requests[0]?.json, { profile: "worker", spec, labels: { purpose: "q" } });
        await nimbus.sandboxes.list({ limit: 5, status: "ready", labelKey: "purpose", labelValue: "q" });
        assert.equal(srv.requests[1]?.query.toString(), "limit=5&status=ready&labelKey=purpose&labelValue=q");
      },
    );
  });

  it("listAll follows nextPageToken across pages", async () => {
    const pages: Record<string, { items: string[]; next?: string }> = {
      "": { items: ["a", "b"], next: "b" },
      b: { items: ["c", "d"], next: "d" },
      d: { items: ["e"] },
    };
    await withClient(
      (req, res) => {
        const page = pages[req.query.get("pageToken") ?? ""];
        sendJson(res, 200, {
          metadata: { tenantId: "demo", resourceVersion: "1", limit: 2, nextPageToken: page?.next, remainingCount: 0 },
          items: page?.items.map((id) => sandbox(id, "ready")),
        });
      },
      async (nimbus, srv) => {
        const ids: string[] = [];
        for await (const s of nimbus.sandboxes.listAll({ limit: 2 })) ids.push(s.metadata.id);
        assert.deepEqual(ids, ["a", "b", "c", "d", "e"]);
        assert.deepEqual(
          srv.requests.map((r) => r.query.get("pageToken")),
          [null, "b", "d"],
        );
        assert.ok(srv.requests.every((r) => r.query.get("limit") === "2"));
      },
    );
  });

  it("stops with a grace period, deletes with 204, reads logs", async () => {
    await withClient(
      (req, res) => {
        if (req.method === "DELETE") return void res.writeHead(204).end();
        if (req.rawPath.endsWith("/logs") && req.query.get("follow") === "1") {
          return sendNdjson(res, [{ stream: "stdout", data: "hello\n", time: "t1" }, { type: "heartbeat" }, { stream: "stderr", data: "oops\n", time: "t2" }]);
        }
        if (req.rawPath.endsWith("/logs")) return void res.writeHead(200, { "content-type": "text/plain" }).end("line1\nline2\n");
        sendJson(res, 200, sandbox("box", "stopped"));
      },
      async (nimbus, srv) => {
        await nimbus.sandboxes.stop({ id: "box", gracePeriodMs: 500 });
        assert.deepEqual(srv.requests[0]?.json, { gracePeriodMs: 500 });
        assert.equal(await nimbus.sandboxes.delete({ id: "box" }), undefined);
        assert.equal(srv.requests[1]?.method, "DELETE");
        assert.equal(await nimbus.sandboxes.logs({ id: "box", tail: 2 }), "line1\nline2\n");
        assert.equal(srv.requests[2]?.query.get("tail"), "2");
        const lines = [];
        for await (const l of nimbus.sandboxes.logs({ id: "box", follow: true })) lines.push(l);
        assert.deepEqual(lines, [
          { stream: "stdout", data: "hello\n", time: "t1" },
          { stream: "stderr", data: "oops\n", time: "t2" },
        ]);
        assert.equal(srv.requests[3]?.headers.accept, "application/x-ndjson");
      },
    );
  });
});

/** A server whose event stream is held open so the test can push lines. */
function waitServer(initial: ReturnType<typeof sandbox>) {
  const state = { events: undefined as ServerResponse | undefined, streamClosed: false, order: [] as string[] };
  const handler: Handler = (req, res) => {
    if (req.rawPath === "/api/tenants/demo/events") {
      state.order.push("events");
      state.events = res;
      res.on("close", () => {
        state.streamClosed = true;
      });
      startNdjson(res);
      writeLine(res, { type: "heartbeat" });
      return;
    }
    state.order.push("get");
    sendJson(res, 200, initial);
  };
  /** Starts waiting for `box` to be ready, and returns (the wait in `waiting`) once it has subscribed and read the sandbox. */
  const startWait = async (nimbus: Nimbus) => {
    const waiting = nimbus.sandboxes.wait({ id: "box", until: "ready" });
    await until(() => state.order.length === 2);
    return { waiting };
  };
  return { state, handler, startWait };
}

describe("sandboxes.wait", () => {
  it("resolves from an event after subscribing before the GET", async () => {
    const { state, handler, startWait } = waitServer(sandbox("box", "starting"));
    await withClient(handler, async (nimbus, srv) => {
      const { waiting } = await startWait(nimbus);
      writeLine(state.events!, { type: "sandbox", action: "updated", resource: sandbox("other", "ready") });
      writeLine(state.events!, { type: "sandbox", action: "updated", resource: sandbox("box", "ready") });
      const ready = await waiting;
      assert.equal(ready.status.lifecycleState, "ready");
      assert.deepEqual(state.order, ["events", "get"]);
      assert.equal(srv.requests[0]?.query.toString(), "kind=sandbox&id=box");
      await until(() => state.streamClosed);
    });
  });

  it("resolves from the initial GET and closes the stream", async () => {
    const { state, handler } = waitServer(sandbox("box", "ready"));
    await withClient(handler, async (nimbus) => {
      const ready = await nimbus.sandboxes.wait({ id: "box", until: "ready" });
      assert.equal(ready.metadata.id, "box");
      assert.deepEqual(state.order, ["events", "get"]);
      await until(() => state.streamClosed);
    });
  });

  it("fails with op.conflict when the sandbox ends failed", async () => {
    const { state, handler, startWait } = waitServer(sandbox("box", "starting"));
    await withClient(handler, async (nimbus) => {
      const { waiting } = await startWait(nimbus);
      writeLine(state.events!, { type: "sandbox", action: "updated", resource: sandbox("box", "failed", { reason: "oom_killed", exitCode: 137 }) });
      await assert.rejects(waiting, (e: unknown) => {
        assert.ok(e instanceof NimbusConflictError);
        assert.equal(e.code, "op.conflict");
        assert.deepEqual(e.detail, { lifecycleState: "failed", reason: "oom_killed", exitCode: 137 });
        return true;
      });
      await until(() => state.streamClosed);
    });
  });

  it("fails when the sandbox is deleted, and when the initial state is already terminal", async () => {
    const { state, handler, startWait } = waitServer(sandbox("box", "starting"));
    await withClient(handler, async (nimbus) => {
      const { waiting } = await startWait(nimbus);
      writeLine(state.events!, { type: "sandbox", action: "deleted", resource: sandbox("box", "stopping") });
      await assert.rejects(waiting, (e: unknown) => e instanceof NimbusConflictError && e.detail?.lifecycleState === "deleted");
    });
    const stopped = waitServer(sandbox("box", "stopped", { reason: "exited", exitCode: 0 }));
    await withClient(stopped.handler, async (nimbus) => {
      await assert.rejects(nimbus.sandboxes.wait({ id: "box", until: "ready" }), {
        code: "op.conflict",
        detail: { lifecycleState: "stopped", reason: "exited", exitCode: 0 },
      });
      assert.equal((await nimbus.sandboxes.wait({ id: "box", until: "stopped" })).status.lifecycleState, "stopped");
    });
  });

  it("times out with client.timeout and closes the stream", async () => {
    const { state, handler } = waitServer(sandbox("box", "starting"));
    await withClient(handler, async (nimbus) => {
      const started = Date.now();
      await assert.rejects(nimbus.sandboxes.wait({ id: "box", until: "ready", timeoutMs: 150 }), (e: unknown) => {
        assert.ok(e instanceof NimbusError);
        assert.deepEqual([e.code, e.status], ["client.timeout", 0]);
        assert.match(e.message, /did not reach `ready` within 150 ms \(last state: starting\)/);
        return true;
      });
      assert.ok(Date.now() - started < 2000);
      await until(() => state.streamClosed);
    });
  });
});
