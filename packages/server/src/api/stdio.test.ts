/**
 * Acceptance (Sessions #2, #3, #6 for stdio) on real crun + conmon: round
 * trips through `cat` over the WebSocket and over NDJSON (the real SDK),
 * replay of output written while detached from a cursor, 64 MiB of stdout
 * complete and in order, `closed: expired` on a 2 s lease, and the attach
 * rules (closed session, channel not in the session, another tenant).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import WebSocket from "ws";
import { Nimbus, NimbusConflictError, NimbusNotFoundError } from "@nimbus/nimbus";
import { busyboxSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";

let env: SandboxEnv;
let nimbus: Nimbus;
let betaKey = "";
const T = "stdio";

before(async () => {
  env = await startSandboxEnv();
  await env.tenant(T);
  await env.tenant("other");
  betaKey = (await env.srv.request("POST", "/api/tenants/other/api-keys", { body: {} })).body.key;
  nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: T });
});
after(async () => {
  await env?.close();
});

async function readySandbox(argv: string[]): Promise<string> {
  const id = (await env.create(T, argv)).metadata.id;
  await env.waitFor(T, id, ["ready"]);
  return id;
}

async function openSession(sandboxId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await env.srv.request("POST", "/api/sessions", { body: { tenantId: T, target: { sandbox: { id: sandboxId } }, channels: ["stdio"], ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.metadata.id;
}

interface WsClient {
  ws: WebSocket;
  /** Binary bytes received so far. */
  bytes(): Buffer;
  /** How many binary bytes arrived (without joining them). */
  byteCount(): number;
  controls: any[];
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  closed: Promise<number>;
}

function wsUrl(sessionId: string, query = ""): string {
  return `${env.srv.url.replace(/^http/, "ws")}/api/sessions/${sessionId}/channels/stdio?tenantId=${T}${query}`;
}

async function connectWs(sessionId: string, query = "", headers: Record<string, string> = { authorization: `Bearer ${env.srv.token()}` }): Promise<WsClient> {
  const ws = new WebSocket(wsUrl(sessionId, query), { headers });
  const chunks: Buffer[] = [];
  let byteCount = 0;
  const controls: any[] = [];
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  ws.on("message", (data: Buffer, isBinary) => {
    if (isBinary) {
      chunks.push(Buffer.from(data));
      byteCount += data.length;
    } else controls.push(JSON.parse(data.toString("utf8")));
    poke();
  });
  const closed = new Promise<number>((r) =>
    ws.on("close", (code) => {
      poke();
      r(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
  return {
    ws,
    controls,
    closed,
    bytes: () => Buffer.concat(chunks),
    byteCount: () => byteCount,
    waitFor(pred, timeoutMs = 10_000) {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; got ${JSON.stringify(Buffer.concat(chunks).toString().slice(-200))} ${JSON.stringify(controls)}`));
        }, timeoutMs);
        const check = () => {
          if (pred()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
      });
    },
  };
}

test("stdio round trip through cat over the WebSocket", async () => {
  const id = await readySandbox(["cat"]);
  const sid = await openSession(id);
  const c = await connectWs(sid);
  await c.waitFor(() => c.controls.some((m) => m.type === "opened"));
  assert.equal(c.controls[0].type, "opened");
  assert.equal(c.controls[0].cursor, 0);
  c.ws.send(Buffer.from("hello over ws\n"));
  await c.waitFor(() => c.bytes().toString() === "hello over ws\n");
  c.ws.send(Buffer.from("second\n"));
  await c.waitFor(() => c.bytes().toString() === "hello over ws\nsecond\n");
  c.ws.close();
  await c.closed;
});

test("stdio round trip through cat over NDJSON with the SDK", async () => {
  const id = await readySandbox(["cat"]);
  const sid = await openSession(id);
  const a = await nimbus.sessions.attach({ id: sid, channel: "stdio" });
  let out = "";
  a.stdout.on("data", (b: Buffer) => (out += b.toString()));
  a.stdin.write("hello over ndjson\n");
  const deadline = Date.now() + 10_000;
  while (out !== "hello over ndjson\n") {
    assert.ok(Date.now() < deadline, `got ${JSON.stringify(out)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(a.cursor, 18);
  await a.close();
});

test("output written while detached is replayed in order from a cursor", async () => {
  const id = await readySandbox(["sh", "-c", "echo one; echo err-one >&2; read x; echo two-$x; echo err-two >&2; sleep 1000"]);
  const sid = await openSession(id);
  // Give the process time to print before anyone attached.
  await new Promise((r) => setTimeout(r, 300));
  const a = await nimbus.sessions.attach({ id: sid, channel: "stdio", cursor: 0 });
  let out = "";
  let err = "";
  a.stdout.on("data", (b: Buffer) => (out += b.toString()));
  a.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const waitUntil = async (pred: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!pred()) {
      assert.ok(Date.now() < deadline, `out=${JSON.stringify(out)} err=${JSON.stringify(err)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitUntil(() => out === "one\n" && err === "err-one\n");
  const mid = a.cursor!;
  assert.equal(mid, "one\nerr-one\n".length);
  await a.close();
  // Input while detached, output while detached.
  const r = await env.srv.request("POST", `/api/sessions/${sid}/channels/stdio/input?tenantId=${T}`, { body: { data: "x\n" } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await new Promise((r) => setTimeout(r, 300));

  // From 0: everything, in order, with cursors.
  const frames = await collectNdjson(sid, 0, 4);
  assert.deepEqual(
    frames
      .filter((f) => f.kind === "stdout" || f.kind === "stderr")
      .map((f) => [f.kind, Buffer.from(f.data, "base64").toString()])
      .reduce<string[][]>((acc, [k, d]) => {
        const last = acc.at(-1);
        if (last && last[0] === k) last[1] += d;
        else acc.push([k!, d!]);
        return acc;
      }, []),
    [
      ["stdout", "one\n"],
      ["stderr", "err-one\n"],
      ["stdout", "two-x\n"],
      ["stderr", "err-two\n"],
    ],
  );
  assert.equal(frames[0].kind, "opened");
  assert.equal(frames[0].cursor, 0);
  const total = "one\nerr-one\ntwo-x\nerr-two\n".length;
  assert.equal(frames.at(-1).cursor, total);

  // From the cursor where we left: only the rest.
  const b = await nimbus.sessions.attach({ id: sid, channel: "stdio", cursor: mid });
  out = "";
  err = "";
  b.stdout.on("data", (x: Buffer) => (out += x.toString()));
  b.stderr.on("data", (x: Buffer) => (err += x.toString()));
  await waitUntil(() => out === "two-x\n" && err === "err-two\n");
  assert.equal(b.cursor, total);
  await b.close();
});

/** Reads NDJSON frames from the stream until `dataFrames` output frames (coalesced per stream) or 2 s idle. */
async function collectNdjson(sid: string, cursor: number, _dataFrames: number): Promise<any[]> {
  const ac = new AbortController();
  const res = await fetch(`${env.srv.url}/api/sessions/${sid}/channels/stdio/stream?tenantId=${T}&encoding=base64&cursor=${cursor}`, {
    headers: { authorization: `Bearer ${env.srv.token()}` },
    signal: ac.signal,
  });
  assert.equal(res.status, 200);
  const frames: any[] = [];
  let buf = "";
  const reader = res.body!.getReader();
  const timer = setTimeout(() => ac.abort(), 1500);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += Buffer.from(value).toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        frames.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    }
  } catch {
    /* aborted after idle */
  } finally {
    clearTimeout(timer);
  }
  return frames;
}

test("64 MiB of stdout arrives complete and in order over the WebSocket", { timeout: 120_000 }, async () => {
  const SIZE = 64 * 1024 * 1024;
  const id = await readySandbox(["sh", "-c", "read go; i=0; while [ $i -lt 1024 ]; do printf '%065535d\\n' $i; i=$((i+1)); done; sleep 1000"]);
  const sid = await openSession(id);
  const ws = new WebSocket(wsUrl(sid), { headers: { authorization: `Bearer ${env.srv.token()}` } });
  const hash = createHash("sha256");
  let n = 0;
  let closed: any;
  const expected = createHash("sha256");
  for (let i = 0; i < 1024; i++) expected.update(String(i).padStart(65535, "0") + "\n");
  const done = new Promise<void>((resolve, reject) => {
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString());
        if (m.type === "closed") {
          closed = m;
          reject(new Error(`closed: ${data}`));
        }
        return;
      }
      hash.update(data);
      n += data.length;
      if (n >= SIZE) resolve();
    });
  });
  await new Promise((r) => ws.once("open", r));
  const t0 = performance.now();
  ws.send(Buffer.from("go\n"));
  await done;
  const ms = performance.now() - t0;
  assert.equal(closed, undefined);
  assert.equal(n, SIZE);
  assert.equal(hash.digest("hex"), expected.digest("hex"));
  console.log(`# 64 MiB over the WebSocket in ${ms.toFixed(0)} ms (${(64 / (ms / 1000)).toFixed(0)} MiB/s)`);
  ws.close();
});

test("a 2 s lease: the attached WebSocket receives closed with reason expired", async () => {
  const id = await readySandbox(["cat"]);
  const sid = await openSession(id, { requestedTtlMs: 2000 });
  const c = await connectWs(sid);
  const t0 = Date.now();
  await c.waitFor(() => c.controls.some((m) => m.type === "closed"), 10_000);
  assert.deepEqual(c.controls.at(-1), { type: "closed", reason: "expired" });
  assert.ok(Date.now() - t0 < 4000, `closed after ${Date.now() - t0} ms`);
  assert.equal(await c.closed, 1000);
  const s = await env.srv.request("GET", `/api/sessions/${sid}?tenantId=${T}`);
  assert.equal(s.body.status.lifecycleState, "expired");
  // The sandbox keeps running.
  assert.equal((await env.waitFor(T, id, ["ready"])).status.lifecycleState, "ready");
});

test("attach rules: closed session 409, channel not in the session 409, another tenant 404, before the upgrade", async () => {
  const id = await readySandbox(["cat"]);
  const closed = await openSession(id);
  await env.srv.request("POST", `/api/sessions/${closed}/close?tenantId=${T}`, { body: {} });
  await assert.rejects(nimbus.sessions.attach({ id: closed, channel: "stdio" }), (e: any) => e instanceof NimbusConflictError && e.code === "op.conflict");
  await assert.rejects(connectWs(closed), (e: any) => e.status === 409);
  const input = await env.srv.request("POST", `/api/sessions/${closed}/channels/stdio/input?tenantId=${T}`, { body: { data: "x" } });
  assert.equal(input.status, 409);
  assert.equal(input.body.error.code, "op.conflict");

  const execOnly = await env.srv.request("POST", "/api/sessions", { body: { tenantId: T, target: { sandbox: { id } }, channels: ["exec"] } });
  const noStdio = execOnly.body.metadata.id;
  const r = await fetch(`${env.srv.url}/api/sessions/${noStdio}/channels/stdio/stream?tenantId=${T}`, {
    headers: { authorization: `Bearer ${env.srv.token()}` },
  });
  assert.equal(r.status, 409);
  const body: any = await r.json();
  assert.equal(body.error.code, "op.conflict");
  assert.match(body.error.message, /stdio/);
  await assert.rejects(connectWs(noStdio), (e: any) => e.status === 409);

  // Another tenant's key: not found, over NDJSON and WebSocket alike.
  const open = await openSession(id);
  const other = await fetch(`${env.srv.url}/api/sessions/${open}/channels/stdio/stream`, { headers: { "x-nimbus-api-key": betaKey } });
  assert.equal(other.status, 404);
  assert.equal(((await other.json()) as any).error.code, "op.not_found");
  await assert.rejects(connectWs(open, "", { "x-nimbus-api-key": betaKey }), (e: any) => e.status === 404);
  await assert.rejects(
    new Nimbus({ endpoint: env.srv.url, apiKey: betaKey, tenantId: "other" }).sessions.attach({ id: open, channel: "stdio" }),
    (e: any) => e instanceof NimbusNotFoundError,
  );
  // No credential: 401 before the upgrade.
  await assert.rejects(connectWs(open, "", {}), (e: any) => e.status === 401);
  // A plain GET of the WebSocket route says how to use it.
  const plain = await env.srv.request("GET", `/api/sessions/${open}/channels/stdio?tenantId=${T}`);
  assert.equal(plain.status, 400);
});

test("process exit: exit frame with the code, then closed target_stopped", async () => {
  const id = await readySandbox(["sh", "-c", "read x; echo bye-$x; exit 7"]);
  const sid = await openSession(id);
  const c = await connectWs(sid, "&framing=json");
  await c.waitFor(() => c.controls.some((m) => m.type === "opened"));
  c.ws.send(Buffer.from("now\n"));
  await c.waitFor(() => c.controls.some((m) => m.type === "closed"));
  const kinds = c.controls.map((m) => m.type);
  assert.deepEqual(kinds, ["opened", "stdout", "exit", "closed"]);
  assert.equal(c.controls[1].data, "bye-now\n");
  assert.equal(c.controls[1].cursor, 8);
  assert.equal(c.controls[2].code, 7);
  assert.equal(c.controls[3].reason, "target_stopped");
  await env.waitFor(T, id, ["failed"]);
});

test("input from the SDK: eof is answered, not silently dropped", async () => {
  const id = await readySandbox(["cat"]);
  const sid = await openSession(id);
  const r = await env.srv.request("POST", `/api/sessions/${sid}/channels/stdio/input?tenantId=${T}`, { body: { eof: true } });
  assert.equal(r.status, 202);
  assert.equal(r.body.eofDelivered, false);
  assert.match(r.body.message, /stdin open/);
});

test("closable stdin over NDJSON: input with eof reaches cat's end of input after its data; a write after it is 409", async () => {
  // The shell outlives cat, so the 409 comes from the closed stdin, not from a stopped sandbox.
  const id = (await env.create(T, ["sh", "-c", "cat; echo eof-seen; exec sleep 100000"], { closableStdin: true })).metadata.id;
  await env.waitFor(T, id, ["ready"]);
  const sid = await openSession(id);
  const a = await nimbus.sessions.attach({ id: sid, channel: "stdio", cursor: 0 });
  let out = "";
  a.stdout.on("data", (b: Buffer) => (out += b.toString()));
  const url = `/api/sessions/${sid}/channels/stdio/input?tenantId=${T}`;
  const r = await env.srv.request("POST", url, { body: { data: "hi\n", eof: true } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.deepEqual(r.body, { bytes: 3, eofDelivered: true });
  const deadline = Date.now() + 10_000;
  while (out !== "hi\neof-seen\n") {
    assert.ok(Date.now() < deadline, `got ${JSON.stringify(out)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const late = await env.srv.request("POST", url, { body: { data: "late\n" } });
  assert.equal(late.status, 409, JSON.stringify(late.body));
  assert.match(late.body.error.message, /stdin .* is closed/);
  await a.close();
  await env.remove(T, id);
});

test("closable stdin over the WebSocket: {type:eof} ends cat; without closableStdin it is a notice and cat runs on", async () => {
  const id = (await env.create(T, ["cat"], { closableStdin: true })).metadata.id;
  await env.waitFor(T, id, ["ready"]);
  const c = await connectWs(await openSession(id), "&framing=json");
  await c.waitFor(() => c.controls.some((m) => m.type === "opened"));
  c.ws.send(Buffer.from("one\n"));
  c.ws.send(JSON.stringify({ type: "eof" }));
  await c.waitFor(() => c.controls.some((m) => m.type === "closed"));
  assert.deepEqual(
    c.controls.map((m) => m.type),
    ["opened", "stdout", "exit", "closed"],
  );
  assert.equal(c.controls[1].data, "one\n");
  assert.equal(c.controls[2].code, 0);

  const kept = await readySandbox(["cat"]);
  const k = await connectWs(await openSession(kept), "&framing=json");
  await k.waitFor(() => k.controls.some((m) => m.type === "opened"));
  k.ws.send(JSON.stringify({ type: "eof" }));
  await k.waitFor(() => k.controls.some((m) => m.type === "notice"));
  k.ws.send(Buffer.from("still\n"));
  await k.waitFor(() => k.controls.some((m) => m.type === "stdout" && m.data === "still\n"));
  k.ws.close();
  await k.closed;
});

test("closableStdin with a terminal is refused: a terminal's end of input is Ctrl-D", async () => {
  const body = busyboxSandboxBody(["cat"]);
  Object.assign(body.spec.process, { terminal: true, closableStdin: true });
  const r = await env.srv.request("POST", `/api/tenants/${T}/sandboxes`, { body: { ...body, labels: {} } });
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.detail?.field, "spec.process.closableStdin");
});

test("replay past conmon's log cap reports the gap and resumes at the oldest byte kept", { timeout: 300_000 }, async () => {
  // 24 MiB of numbered 64 KiB lines while nobody is attached: the 10 MiB log is replaced twice.
  const LINES = 384;
  const line = (i: number) => String(i).padStart(65535, "0") + "\n";
  const id = await readySandbox(["sh", "-c", `read go; i=0; while [ $i -lt ${LINES} ]; do printf '%065535d\\n' $i; i=$((i+1)); done; echo done; sleep 1000`]);
  const sid = await openSession(id);
  assert.equal((await env.srv.request("POST", `/api/sessions/${sid}/channels/stdio/input?tenantId=${T}`, { body: { data: "go\n" } })).status, 202);
  const total = LINES * 65536 + 5;
  // Wait until everything was produced (live head reaches the total); busybox
  // printf is slow, so allow for a loaded machine.
  const deadline = Date.now() + 180_000;
  let opened: any;
  for (;;) {
    const frames = await collectOpened(sid);
    opened = frames;
    if (opened.head >= total) break;
    assert.ok(Date.now() < deadline, `head ${opened.head}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(opened.oldestCursor > 0, "the log was capped, so the oldest cursor is past 0");
  const a = await nimbus.sessions.attach({ id: sid, channel: "stdio", cursor: 0 });
  const chunks: Buffer[] = [];
  a.stdout.on("data", (b: Buffer) => chunks.push(b));
  const until = Date.now() + 60_000;
  while (a.cursor !== total) {
    assert.ok(Date.now() < until, `cursor ${a.cursor}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await a.close();
  const got = Buffer.concat(chunks);
  assert.equal(got.length, total - opened.oldestCursor);
  // Every byte kept sits at its true offset: compare against the expected stream.
  const expected = Buffer.from(Array.from({ length: LINES }, (_, i) => line(i)).join("") + "done\n");
  assert.ok(got.equals(expected.subarray(opened.oldestCursor)), "replayed bytes differ from the stream at their offsets");
  // The gap frame says what was lost.
  const raw = await collectNdjson(sid, 0, 0);
  const gap = raw.find((f) => f.kind === "gap");
  assert.deepEqual(gap, { kind: "gap", from: 0, to: opened.oldestCursor, reason: "log_capped" });
});

/** The `opened` frame of a fresh live-only attach (cursor = head). */
async function collectOpened(sid: string): Promise<any> {
  const ac = new AbortController();
  const res = await fetch(`${env.srv.url}/api/sessions/${sid}/channels/stdio/stream?tenantId=${T}`, {
    headers: { authorization: `Bearer ${env.srv.token()}` },
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stream ended before opened");
    buf += Buffer.from(value).toString();
    const nl = buf.indexOf("\n");
    if (nl >= 0) {
      ac.abort();
      return JSON.parse(buf.slice(0, nl));
    }
  }
}

/**
 * A WebSocket client on a new sandbox whose process runs `script` once it reads a
 * line: the client sends that line, then takes nothing for `stallMs`, then reads again.
 */
async function stallingClient(script: string, stallMs: number): Promise<{ sid: string; c: WsClient }> {
  const sid = await openSession(await readySandbox(["sh", "-c", `read go; ${script}`]));
  const c = await connectWs(sid);
  await c.waitFor(() => c.controls.some((m) => m.type === "opened"));
  c.ws.pause();
  c.ws.send(Buffer.from("go\n"));
  await new Promise((r) => setTimeout(r, stallMs));
  c.ws.resume();
  return { sid, c };
}

test("a client that stops reading is cut off with closed: slow_reader, never silently truncated", { timeout: 120_000 }, async () => {
  // The server gives up once more than 8 MiB is pending for this client.
  const { sid, c } = await stallingClient("head -c 67108864 /dev/zero; sleep 1000", 8000);
  await c.waitFor(() => c.controls.some((m) => m.type === "closed"), 30_000);
  assert.deepEqual(c.controls.at(-1), { type: "closed", reason: "slow_reader" });
  const got = c.bytes().length;
  assert.ok(got < 64 * 1024 * 1024, `got ${got} bytes`);
  // What did arrive is a prefix of the stream, ending where the cut happened.
  assert.ok(c.bytes().every((b) => b === 0));
  // The process is untouched, and a new attach resumes from where the client was.
  const again = await connectWs(sid, `&cursor=${got}`);
  await again.waitFor(() => again.controls.some((m) => m.type === "opened"));
  assert.ok(again.controls[0].cursor >= got);
  again.ws.close();
});

test("a client that falls behind holds the process back instead of being cut off, and gets every byte", { timeout: 120_000 }, async () => {
  // 32 MiB is four times what a client could lag before it was cut off; held back, nothing is lost.
  const SIZE = 32 * 1024 * 1024;
  // Shorter than the stall limit (5 s): the process waits for this client.
  const { c } = await stallingClient(`head -c ${SIZE} /dev/zero; echo; echo done; sleep 1000`, 2500);
  await c.waitFor(() => c.byteCount() >= SIZE + "\ndone\n".length, 60_000);
  assert.equal(
    c.controls.some((m) => m.type === "closed"),
    false,
    JSON.stringify(c.controls),
  );
  const got = c.bytes();
  assert.equal(got.length, SIZE + "\ndone\n".length);
  assert.ok(got.subarray(0, SIZE).every((b) => b === 0));
  assert.equal(got.subarray(SIZE).toString(), "\ndone\n");
  c.ws.close();
});
