/**
 * Acceptance (issue 18 #4): a process started through the processes API
 * before `kill -9` of the server is still running afterwards, its output from
 * before the restart replays from cursor 0 and new output follows, and a
 * process reading stdin still has it open (the restart delivered no EOF), so
 * it takes more input and exits on a real EOF. The processes are supervised
 * by their own conmon (and stdin relay), outside the server. The same holds
 * for a main process created with `closableStdin` (issue 18, main-process EOF).
 */
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnServer } from "../testing/cli.js";
import { killableServerWorld } from "../testing/killable-server.js";
import { assertNoLeftovers } from "../runtime/leak-check.js";
import { busyboxSandboxBody } from "../testing/sandbox-env.js";

const { env, dataDir, serveFlags, token } = killableServerWorld();

/** Servers a test started: a test that fails half-way leaves none running (it would hold the data dir and keep the run from ending). */
const started: Array<Awaited<ReturnType<typeof spawnServer>>> = [];
afterEach(async () => {
  for (const server of started.splice(0)) await server.stop("SIGKILL");
});
const serve = async () => {
  const server = await spawnServer(serveFlags(), env);
  started.push(server);
  return server;
};

function client(address: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${address}${path}`, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  /** The NDJSON output frames from `cursor` until the stream ends or `untilMs` passes. */
  const frames = async (path: string, cursor: number, untilMs: number) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), untilMs);
    const out: any[] = [];
    try {
      const res = await fetch(`${address}${path}/stream?cursor=${cursor}`, { headers: { authorization: `Bearer ${token()}` }, signal: ac.signal });
      let buf = "";
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += Buffer.from(chunk).toString("utf8");
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          if (nl > 0) out.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      }
    } catch {
      /* aborted at untilMs */
    } finally {
      clearTimeout(timer);
    }
    return out;
  };
  return { call, frames };
}

const stdout = (frames: any[]) =>
  frames
    .filter((f) => f.kind === "stdout")
    .map((f) => Buffer.from(f.data, "base64").toString("utf8"))
    .join("");

test("a process outlives kill -9 of the server; its earlier output replays and its stdin is still open", { timeout: 180_000 }, async () => {
  const first = await serve();
  let api = client(first.address);
  assert.equal((await api.call("POST", "/api/tenants", { id: "demo" })).status, 201);
  const created = await api.call("POST", "/api/tenants/demo/sandboxes", busyboxSandboxBody(["sleep", "100000"], { displayName: "procs" }));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const sandboxId = created.body.metadata.id;
  for (let i = 0; (await api.call("GET", `/api/tenants/demo/sandboxes/${sandboxId}`)).body.status.lifecycleState !== "ready"; i++) {
    assert.ok(i < 600, "never ready");
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = `/api/tenants/demo/sandboxes/${sandboxId}/processes`;
  const ticker = await api.call("POST", base, { cmd: "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done", detach: true });
  assert.equal(ticker.status, 201, JSON.stringify(ticker.body));
  const reader = await api.call("POST", base, { argv: ["cat"], stdin: true, detach: true });
  assert.equal(reader.status, 201, JSON.stringify(reader.body));
  assert.equal((await api.call("POST", `${base}/${reader.body.id}/stdin`, { data: "before\n" })).status, 200);
  const beforeFrames = await api.frames(`${base}/${ticker.body.id}`, 0, 1_000);
  const beforeText = stdout(beforeFrames);
  assert.match(beforeText, /^tick-0\ntick-1\n/);

  assert.equal(await first.stop("SIGKILL"), null, "the server died from SIGKILL");
  await new Promise((r) => setTimeout(r, 1_000)); // it keeps printing while no server runs

  const second = await serve();
  try {
    api = client(second.address);
    const got = await api.call("GET", `${base}/${ticker.body.id}`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.state, "running", "still running after the restart");
    const replay = stdout(await api.frames(`${base}/${ticker.body.id}`, 0, 1_500));
    assert.ok(replay.startsWith(beforeText), "the output from before the restart replays from cursor 0, unchanged");
    const ticks = replay.split("\n").filter(Boolean);
    assert.ok(ticks.length > beforeText.split("\n").filter(Boolean).length + 5, `output went on meanwhile and after: ${ticks.length} lines`);
    ticks.forEach((t, i) => assert.equal(t, `tick-${i}`, "no line lost or repeated across the restart"));

    // stdin survived the restart (no EOF was delivered), and EOF still works.
    assert.equal((await api.call("GET", `${base}/${reader.body.id}`)).body.state, "running");
    const w = await api.call("POST", `${base}/${reader.body.id}/stdin`, { data: "after\n", eof: true });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    for (let i = 0; (await api.call("GET", `${base}/${reader.body.id}`)).body.state !== "exited"; i++) {
      assert.ok(i < 200, "cat never saw EOF");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await api.call("GET", `${base}/${reader.body.id}`)).body.exitCode, 0);
    assert.equal(stdout(await api.frames(`${base}/${reader.body.id}`, 0, 5_000)), "before\nafter\n");

    const killed = await api.call("POST", `${base}/${ticker.body.id}/signal`, { signal: "SIGKILL" });
    assert.equal(killed.status, 200, JSON.stringify(killed.body));
    assert.equal((await api.call("DELETE", "/api/tenants/demo")).status < 300, true);
  } finally {
    assert.equal(await second.stop("SIGTERM"), 0);
  }
  await assertNoLeftovers(join(dataDir, "runtime"));
});

test("a main process with closableStdin keeps its stdin across kill -9 of the server; EOF after it ends the process", { timeout: 180_000 }, async () => {
  const first = await serve();
  let api = client(first.address);
  assert.equal((await api.call("POST", "/api/tenants", { id: "eof" })).status, 201);
  const created = await api.call("POST", "/api/tenants/eof/sandboxes", busyboxSandboxBody(["cat"], { displayName: "eof", closableStdin: true }));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.metadata.id;
  const state = async () => (await api.call("GET", `/api/tenants/eof/sandboxes/${id}`)).body.status;
  for (let i = 0; (await state()).lifecycleState !== "ready"; i++) {
    assert.ok(i < 600, "never ready");
    await new Promise((r) => setTimeout(r, 50));
  }
  const input = async (body: Record<string, unknown>) => {
    const session = await api.call("POST", "/api/sessions", { tenantId: "eof", target: { sandbox: { id } }, channels: ["stdio"] });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    return api.call("POST", `/api/sessions/${session.body.metadata.id}/channels/stdio/input?tenantId=eof`, body);
  };
  assert.equal((await input({ data: "before\n" })).status, 202);

  assert.equal(await first.stop("SIGKILL"), null, "the server died from SIGKILL");
  const second = await serve();
  try {
    api = client(second.address);
    assert.equal((await state()).lifecycleState, "ready", "cat still runs: the restart closed no stdin");
    const w = await input({ data: "after\n", eof: true });
    assert.equal(w.status, 202, JSON.stringify(w.body));
    assert.equal(w.body.eofDelivered, true);
    for (let i = 0; (await state()).lifecycleState !== "stopped"; i++) {
      assert.ok(i < 200, `cat never saw EOF: ${JSON.stringify(await state())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await state()).exitCode, 0);
    const res = await fetch(`${second.address}/api/tenants/eof/sandboxes/${id}/logs`, { headers: { authorization: `Bearer ${token()}` } });
    assert.equal(await res.text(), "before\nafter\n");
    assert.equal((await api.call("DELETE", "/api/tenants/eof")).status < 300, true);
  } finally {
    assert.equal(await second.stop("SIGTERM"), 0);
  }
  await assertNoLeftovers(join(dataDir, "runtime"));
});
