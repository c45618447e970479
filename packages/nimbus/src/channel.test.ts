import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { Nimbus } from "./client.js";
import { NimbusConflictError } from "./errors.js";
import { sendError, sendJson, startNdjson, startServer, until, writeLine } from "./testing/fake-server.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Plays a `cat`-like stdio channel: each input chunk is echoed as stdout once the previous POST has been answered. */
async function catServer(opts: { slowFirstInput?: boolean } = {}) {
  const state = { stream: undefined as ServerResponse | undefined, inputs: [] as unknown[], cursor: 0, closed: false, inFlight: 0, maxInFlight: 0 };
  const srv = await startServer(async (req, res) => {
    if (req.rawPath.endsWith("/stream")) {
      if (req.rawPath.includes("closed-session")) return sendError(res, 409, "op.conflict", "session is closed");
      state.stream = res;
      res.on("close", () => {
        state.closed = true;
      });
      startNdjson(res);
      state.cursor = Number(req.query.get("cursor") ?? 0);
      writeLine(res, { kind: "opened", channel: "stdio", targetGeneration: 1, cursor: state.cursor });
      return;
    }
    const body = req.json as { data?: string; eof?: boolean };
    state.inputs.push(body);
    state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
    if (opts.slowFirstInput && state.inputs.length === 1) await new Promise((r) => setTimeout(r, 60));
    if (body.data) {
      const bytes = Buffer.from(body.data, "base64");
      state.cursor += bytes.length;
      writeLine(state.stream!, { kind: "stdout", data: body.data, encoding: "base64", cursor: state.cursor });
    }
    if (body.eof) {
      writeLine(state.stream!, { kind: "stderr", data: b64("bye\n"), encoding: "base64", cursor: state.cursor + 4 });
      writeLine(state.stream!, { kind: "exit", code: 7 });
      state.stream!.end();
    }
    state.inFlight--;
    sendJson(res, 202, undefined);
  });
  return { srv, state };
}

describe("sessions.attach", () => {
  it("round-trips stdin to stdout in order, decodes base64, and resolves exit", async () => {
    const { srv, state } = await catServer({ slowFirstInput: true });
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" });
      const a = await nimbus.sessions.attach({ id: "ses/1", channel: "stdio", cursor: 10 });
      const stream = srv.requests[0];
      assert.equal(stream?.rawPath, "/api/sessions/ses%2F1/channels/stdio/stream");
      assert.equal(stream?.query.toString(), "tenantId=demo&encoding=base64&cursor=10");
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      a.stdout.on("data", (c: Buffer) => out.push(c));
      a.stderr.on("data", (c: Buffer) => err.push(c));
      for (const word of ["one ", "two ", "three ", "\u00e9\n"]) a.stdin.write(word);
      a.stdin.end();
      const exit = await a.exit;
      assert.deepEqual(exit, { code: 7 });
      await until(() => a.stdout.readableEnded && a.stderr.readableEnded);
      assert.equal(Buffer.concat(out).toString(), "one two three \u00e9\n");
      assert.equal(Buffer.concat(err).toString(), "bye\n");
      const posted = state.inputs.map((b) => ((b as { data?: string }).data ? Buffer.from((b as { data: string }).data, "base64").toString() : b));
      assert.equal(posted.slice(0, -1).join(""), "one two three \u00e9\n");
      assert.deepEqual(posted.at(-1), { eof: true });
      assert.equal(state.maxInFlight, 1, "input requests are serialized");
      const inputReq = srv.requests.find((r) => r.rawPath.endsWith("/input"));
      assert.equal(inputReq?.rawPath, "/api/sessions/ses%2F1/channels/stdio/input");
      assert.equal(inputReq?.query.get("tenantId"), "demo");
      assert.equal((inputReq?.json as { encoding?: string }).encoding, "base64");
      assert.equal(a.cursor, 10 + Buffer.byteLength("one two three \u00e9\n") + 4, "cursor counts stdout and stderr bytes");
    } finally {
      await srv.close();
    }
  });

  it("is async-iterable and resolves exit with the server's closed reason", async () => {
    const { srv, state } = await catServer();
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" });
      const a = await nimbus.sessions.attach({ id: "ses" });
      await until(() => state.stream !== undefined);
      writeLine(state.stream!, { kind: "stdout", data: b64("tick\n"), encoding: "base64", cursor: 5 });
      writeLine(state.stream!, { kind: "closed", reason: "expired" });
      const chunks: string[] = [];
      for await (const c of a.stdout) chunks.push(String(c));
      assert.deepEqual(chunks, ["tick\n"]);
      assert.deepEqual(await a.exit, { code: null, reason: "expired" });
      assert.equal(a.cursor, 5);
    } finally {
      await srv.close();
    }
  });

  it("close() detaches: the stream is closed and exit says client_closed", async () => {
    const { srv, state } = await catServer();
    try {
      const a = await new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" }).sessions.attach({ id: "ses" });
      await a.close();
      assert.deepEqual(await a.exit, { code: null, reason: "client_closed" });
      await until(() => state.closed);
    } finally {
      await srv.close();
    }
  });

  it("throws the server's error when the attach is refused", async () => {
    const { srv } = await catServer();
    try {
      const nimbus = new Nimbus({ endpoint: srv.url, token: "t", tenantId: "demo" });
      await assert.rejects(nimbus.sessions.attach({ id: "closed-session" }), NimbusConflictError);
    } finally {
      await srv.close();
    }
  });
});
