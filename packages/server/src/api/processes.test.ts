/**
 * The processes API (issue 18) on real crun + conmon: start answers at once,
 * output replays from a cursor over NDJSON and WebSocket with stdout and
 * stderr apart (one stream with a tty), stdin with a real EOF, terminal
 * resize, signals and timeouts that take the whole process group, a reader
 * that aborts killing a process that was not detached, the tenant's exec cap,
 * and the error envelope for bad input.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { Nimbus } from "@nimbus/nimbus";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";

let env: SandboxEnv;
let sandboxId = "";
const T = "procs";

before(async () => {
  env = await startSandboxEnv();
  await env.tenant(T);
  sandboxId = (await env.create(T, ["sleep", "100000"])).metadata.id;
  await env.waitFor(T, sandboxId, ["ready"]);
});
after(async () => {
  await env?.close();
});

const base = () => `/api/tenants/${T}/sandboxes/${sandboxId}/processes`;

async function start(body: Record<string, unknown>): Promise<any> {
  const r = await env.srv.request("POST", base(), { body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function waitExited(id: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await env.srv.request("GET", `${base()}/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.state === "exited") return r.body;
    assert.ok(Date.now() < deadline, `process ${id} still running: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Reads the NDJSON stream to its end (or until `signal` aborts it). */
async function readStream(id: string, query = "", signal?: AbortSignal): Promise<any[]> {
  const res = await fetch(`${env.srv.url}${base()}/${id}/stream${query}`, { headers: { authorization: `Bearer ${env.srv.token()}` }, signal });
  assert.equal(res.status, 200, await res.clone().text());
  const frames: any[] = [];
  let buf = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += Buffer.from(chunk).toString("utf8");
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line) frames.push(JSON.parse(line));
    }
  }
  return frames.filter((f) => f.type !== "heartbeat");
}

const text = (frames: any[], kind: string) =>
  frames
    .filter((f) => f.kind === kind)
    .map((f) => Buffer.from(f.data, "base64").toString("utf8"))
    .join("");

/** Processes running in the sandbox whose command line starts with `needle` (busybox ps through the exec channel). */
async function psCount(needle: string): Promise<number> {
  const res = await fetch(`${env.srv.url}/api/tenants/${T}/sandboxes/${sandboxId}/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.srv.token()}`, "content-type": "application/json" },
    body: JSON.stringify({ argv: ["ps", "-o", "args"] }),
  });
  const frames = (await res.text())
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const out = text(frames, "stdout");
  return out.split("\n").filter((l) => l.trim().startsWith(needle)).length;
}

test("a started process answers at once; its output replays from cursor 0 with stdout and stderr apart, then its exit code", async () => {
  const t0 = Date.now();
  const p = await start({ cmd: "echo out; echo err >&2; sleep 1; echo late; exit 3", detach: true });
  assert.ok(Date.now() - t0 < 1_000, "start does not wait for the process");
  assert.match(p.id, /^p-[0-9a-f]{12}$/);
  assert.equal(p.state, "running");
  assert.deepEqual(p.argv, ["/bin/sh", "-c", "echo out; echo err >&2; sleep 1; echo late; exit 3"]);
  const frames = await readStream(p.id, "?cursor=0");
  assert.equal(frames[0].kind, "opened");
  assert.equal(frames[0].cursor, 0);
  assert.equal(text(frames, "stdout"), "out\nlate\n");
  assert.equal(text(frames, "stderr"), "err\n");
  const exit = frames.find((f) => f.kind === "exit");
  assert.equal(exit.code, 3);
  assert.equal(frames.at(-1).kind, "closed");
  const done = await waitExited(p.id);
  assert.equal(done.exitCode, 3);
  // Reading again later replays it all; from a cursor, only what follows.
  const again = await readStream(p.id, "?cursor=0");
  assert.equal(text(again, "stdout"), "out\nlate\n");
  const outFrame = frames.find((f) => f.kind === "stdout");
  const tail = await readStream(p.id, `?cursor=${outFrame.cursor}`);
  const bytes = (fs: any[]) =>
    fs.filter((f) => f.kind === "stdout" || f.kind === "stderr").map((f) => `${f.kind}:${f.cursor}:${Buffer.from(f.data, "base64")}`);
  assert.equal(tail[0].cursor, outFrame.cursor);
  assert.deepEqual(bytes(tail), bytes(frames.filter((f) => f.cursor > outFrame.cursor)));
  const list = await env.srv.request("GET", base());
  assert.ok(list.body.items.some((x: any) => x.id === p.id && x.exitCode === 3));
});

test("stdin: bytes reach the process and eof really closes it (cat exits 0)", async () => {
  const p = await start({ argv: ["cat"], stdin: true, detach: true });
  const r1 = await env.srv.request("POST", `${base()}/${p.id}/stdin`, { body: { data: "hello\n" } });
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  const r2 = await env.srv.request("POST", `${base()}/${p.id}/stdin`, {
    body: { data: Buffer.from("bin\x00\n").toString("base64"), encoding: "base64", eof: true },
  });
  assert.equal(r2.status, 200, JSON.stringify(r2.body));
  const done = await waitExited(p.id);
  assert.equal(done.exitCode, 0, "cat saw end-of-file");
  const frames = await readStream(p.id, "?cursor=0");
  assert.equal(text(frames, "stdout"), "hello\nbin\x00\n");
  const late = await env.srv.request("POST", `${base()}/${p.id}/stdin`, { body: { data: "x" } });
  assert.equal(late.status, 409);
});

test("a process given stdin that ends before reading it starts all the same, and its output and exit code are kept", async () => {
  // Its conmon and attach socket may be gone before the stdin relay connects: the start must not call that a failure.
  for (let i = 0; i < 5; i++) {
    const p = await start({ cmd: `echo quick-${i}`, stdin: true, detach: true });
    const done = await waitExited(p.id);
    assert.equal(done.exitCode, 0);
    assert.equal(text(await readStream(p.id, "?cursor=0"), "stdout"), `quick-${i}\n`);
    const late = await env.srv.request("POST", `${base()}/${p.id}/stdin`, { body: { data: "x" } });
    assert.equal(late.status, 409, JSON.stringify(late.body));
  }
});

test("WebSocket: binary frames both ways, a tty with its size, resize, and eof", async () => {
  const p = await start({ cmd: "stty size; read line; stty size; echo got-$line", stdin: true, tty: { cols: 100, rows: 30 } });
  const ws = new WebSocket(`${env.srv.url.replace(/^http/, "ws")}${base()}/${p.id}/ws?cursor=0`, { headers: { authorization: `Bearer ${env.srv.token()}` } });
  let out = "";
  const controls: any[] = [];
  ws.on("message", (d: Buffer, bin: boolean) => (bin ? (out += d.toString("utf8")) : controls.push(JSON.parse(d.toString("utf8")))));
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  const until = async (pred: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!pred()) {
      assert.ok(Date.now() < deadline, `got ${JSON.stringify(out)} ${JSON.stringify(controls)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => out.includes("30 100"));
  ws.send(JSON.stringify({ type: "resize", cols: 120, rows: 40 }));
  await new Promise((r) => setTimeout(r, 200));
  ws.send(Buffer.from("abc\r"));
  await until(() => out.includes("got-abc"));
  assert.match(out, /40 120/);
  await until(() => controls.some((c) => c.type === "exit"));
  assert.equal(controls.find((c) => c.type === "exit").code, 0);
  ws.close();
});

test("SIGKILL and timeoutMs take the whole process group", async () => {
  const p = await start({ cmd: "sleep 4242 & sleep 4243; wait", detach: true });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await psCount("sleep 424"), 2);
  const k = await env.srv.request("POST", `${base()}/${p.id}/signal`, { body: { signal: "SIGKILL" } });
  assert.equal(k.status, 200, JSON.stringify(k.body));
  const done = await waitExited(p.id);
  assert.equal(done.signal, "SIGKILL");
  assert.equal(done.reason, "killed");
  assert.equal(await psCount("sleep 424"), 0, "the background child died too");

  const t0 = Date.now();
  const q = await start({ cmd: "sleep 5252 & sleep 5253; wait", detach: true, timeoutMs: 700 });
  const ended = await waitExited(q.id);
  assert.ok(Date.now() - t0 < 5_000, `timed out after ${Date.now() - t0} ms`);
  assert.equal(ended.reason, "timeout");
  assert.equal(ended.exitCode, 137);
  assert.equal(await psCount("sleep 525"), 0);
});

test("a reader that aborts leaves no process behind unless it was started with detach", async () => {
  const p = await start({ cmd: "sleep 6161" });
  const ac = new AbortController();
  const reading = readStream(p.id, "", ac.signal).catch(() => []);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await psCount("sleep 6161"), 1);
  ac.abort();
  await reading;
  const done = await waitExited(p.id);
  assert.equal(done.reason, "abandoned");
  assert.equal(await psCount("sleep 6161"), 0);

  const d = await start({ cmd: "sleep 6262", detach: true });
  const ac2 = new AbortController();
  const reading2 = readStream(d.id, "", ac2.signal).catch(() => []);
  await new Promise((r) => setTimeout(r, 300));
  ac2.abort();
  await reading2;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await env.srv.request("GET", `${base()}/${d.id}`)).body.state, "running");
  await env.srv.request("POST", `${base()}/${d.id}/signal`, { body: { signal: "SIGKILL" } });
  await waitExited(d.id);
});

test("bad input and unknown ids get the error envelope", async () => {
  const both = await env.srv.request("POST", base(), { body: { argv: ["true"], cmd: "true" } });
  assert.equal(both.status, 400);
  assert.equal(both.body.error.code, "op.invalid_input");
  const none = await env.srv.request("POST", base(), { body: {} });
  assert.equal(none.status, 400);
  const extra = await env.srv.request("POST", base(), { body: { argv: ["true"], privileged: true } });
  assert.equal(extra.status, 400);
  const noBinary = await env.srv.request("POST", base(), { body: { argv: ["/no/such/binary"] } });
  assert.equal(noBinary.status, 400, JSON.stringify(noBinary.body));
  const missing = await env.srv.request("GET", `${base()}/p-000000000000`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "op.not_found");
  const otherSandbox = await env.srv.request("GET", `/api/tenants/${T}/sandboxes/nope/processes`);
  assert.equal(otherSandbox.status, 404);
  const badSignal = await env.srv.request("POST", `${base()}/p-000000000000/signal`, { body: { signal: "SIGBOGUS" } });
  assert.equal(badSignal.status, 400);
});

test("running processes count against the tenant's maxExecs", async () => {
  for (const p of (await env.srv.request("GET", base())).body.items.filter((x: any) => x.state === "running")) {
    await env.srv.request("POST", `${base()}/${p.id}/signal`, { body: { signal: "SIGKILL" } });
    await waitExited(p.id);
  }
  const limits = await env.srv.request("PUT", `/api/tenants/${T}/limits`, { body: { maxExecs: 1 } });
  assert.ok(limits.status === 200 || limits.status === 201, JSON.stringify(limits.body));
  try {
    const p = await start({ cmd: "sleep 7171", detach: true });
    const second = await env.srv.request("POST", base(), { body: { cmd: "sleep 1", detach: true } });
    assert.equal(second.status, 429, JSON.stringify(second.body));
    assert.equal(second.body.error.detail.limitName, "maxExecs");
    await env.srv.request("POST", `${base()}/${p.id}/signal`, { body: { signal: "SIGKILL" } });
    await waitExited(p.id);
    const third = await start({ argv: ["true"], detach: true });
    await waitExited(third.id);
  } finally {
    await env.srv.request("PUT", `/api/tenants/${T}/limits`, { body: { maxExecs: 64 } });
  }
});

test("the SDK's plain process calls: start, stdin with eof, stream from cursor 0, list, kill", async () => {
  const nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: T });
  const p = await nimbus.processes.start({ sandboxId, argv: ["sh", "-c", "cat; echo done >&2"], stdin: true, detach: true, env: { GREETING: "hi" } });
  await nimbus.processes.stdin({ sandboxId, id: p.id, data: new Uint8Array([104, 105, 10]), eof: true });
  const frames = [];
  for await (const f of nimbus.processes.stream({ sandboxId, id: p.id, cursor: 0 })) frames.push(f);
  assert.equal(text(frames, "stdout"), "hi\n");
  assert.equal(text(frames, "stderr"), "done\n");
  assert.deepEqual(frames.at(-2), { kind: "exit", code: 0 });
  assert.equal((await nimbus.processes.get({ sandboxId, id: p.id })).exitCode, 0);
  assert.ok((await nimbus.processes.list({ sandboxId })).some((x) => x.id === p.id));
  const q = await nimbus.processes.start({ sandboxId, cmd: "sleep 3131", detach: true });
  await nimbus.processes.kill({ sandboxId, id: q.id, signal: "SIGTERM" });
  assert.equal((await waitExited(q.id)).signal, "SIGTERM");
});
