// runtime/fake/fake-backend.test.ts — the fake keeps the RuntimeBackend contract the
// domain's unit tests rely on: states, exits, signals, idempotent delete, shared host.

import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import type { ContainerSpec } from "../backend.js";
import { isRuntimeError } from "../errors.js";
import { FakeBackend, FakeHost } from "./fake-backend.js";

const spec = (id: string): ContainerSpec => ({
  id,
  rootfs: { lowerDirs: [] },
  process: { args: ["sleep", "1"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, terminal: false },
  hostname: id,
  resources: { memoryLimitBytes: 1 << 26, pidsLimit: 16, cpuCount: 1 },
  annotations: { k: "v" },
});

test("create → created, start → running, exit → stopped with the code", async () => {
  const b = new FakeBackend();
  await b.create(spec("a"));
  assert.equal((await b.state("a"))?.status, "created");
  await b.start("a");
  const st = await b.state("a");
  assert.equal(st?.status, "running");
  assert.deepEqual(st.annotations, { k: "v" });
  const waiting = b.wait("a");
  b.exit("a", 3);
  assert.equal((await waiting).exitCode, 3);
  assert.equal((await b.state("a"))?.exit?.exitCode, 3);
});

test("SIGTERM ends the process as 143; OOM kills report oomKilled", async () => {
  const b = new FakeBackend();
  await b.create(spec("t"));
  await b.start("t");
  await b.signal("t", "SIGTERM");
  assert.deepEqual({ ...(await b.wait("t")), finishedAt: "" }, { exitCode: 143, signal: "SIGTERM", oomKilled: false, finishedAt: "" });
  await b.create(spec("o"));
  await b.start("o");
  b.oomKill("o");
  const exit = await b.wait("o");
  assert.equal(exit.oomKilled, true);
  assert.equal(exit.signal, "SIGKILL");
});

test("errors are typed and delete is idempotent", async () => {
  const b = new FakeBackend({ failStart: (id) => (id === "bad" ? "no such binary" : undefined) });
  await b.create(spec("d"));
  await assert.rejects(b.create(spec("d")), (e) => isRuntimeError(e, "already_exists"));
  await assert.rejects(b.create(spec("bad")), (e) => isRuntimeError(e, "start_failed"));
  await assert.rejects(b.start("nope"), (e) => isRuntimeError(e, "not_found"));
  const waiting = b.wait("d");
  await b.delete("d");
  await b.delete("d");
  await assert.rejects(waiting, (e) => isRuntimeError(e, "not_found"));
  assert.equal(await b.state("d"), undefined);
});

test("a new backend on the same host sees containers, including ones that exited meanwhile", async () => {
  const host = new FakeHost();
  const first = new FakeBackend({ host });
  await first.create(spec("r"));
  await first.start("r");
  await first.create(spec("x"));
  await first.start("x");
  first.exit("x", 9);
  const second = new FakeBackend({ host });
  const byId = new Map((await second.list()).map((s) => [s.id, s]));
  assert.equal(byId.get("r")?.status, "running");
  assert.equal(byId.get("x")?.exit?.exitCode, 9);
});

test("wait honours an abort signal", async () => {
  const b = new FakeBackend();
  await b.create(spec("w"));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20); // a ref'd timer: AbortSignal.timeout's would not keep the loop alive
  await assert.rejects(b.wait("w", ac.signal), { name: "AbortError" });
});

test("ports: what a test registers is listening and reached while the container runs, and nothing else", async () => {
  const target = createServer((s) => s.end("pong"));
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
  const targetPort = (target.address() as AddressInfo).port;
  try {
    const b = new FakeBackend();
    await b.create(spec("p"));
    b.ports.listen("p", 8080, targetPort);
    assert.equal(await b.ports.isListening("p", 8080), false, "a created container listens on nothing");
    await b.start("p");
    assert.equal(await b.ports.isListening("p", 8080), true);
    assert.equal(await b.ports.isListening("p", 8081), false);
    await assert.rejects(b.ports.publish("p", 8081), (e) => isRuntimeError(e, "not_found"));
    const forward = await b.ports.publish("p", 8080);
    assert.equal(forward.hostPort, undefined);
    const answer = await new Promise<string>((resolve, reject) => {
      let out = "";
      forward
        .connect()
        .on("data", (d: Buffer) => (out += d))
        .on("end", () => resolve(out))
        .on("error", reject);
    });
    assert.equal(answer, "pong");
    await forward.close();
    b.exit("p", 0);
    assert.equal(await b.ports.isListening("p", 8080), false, "a stopped container listens on nothing");
    await assert.rejects(b.ports.publish("p", 8080), (e) => isRuntimeError(e, "not_found"));
  } finally {
    target.close();
  }
});
