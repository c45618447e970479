// runtime/container/crun-backend.test.ts — behaviour specific to the conmon-based
// backend, beyond the shared conformance suite: a terminal, the attach socket,
// the log size cap, and a monitor that dies without recording an exit.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { isRuntimeError } from "../errors.js";
import { ContainerBackend } from "./crun-backend.js";
import { busyboxLayerForFile, crunSkip as skip, removeBackendState } from "../../testing/busybox-containers.js";
import { readLogText } from "./log-file.js";

const layer = busyboxLayerForFile("nimbus-crun-layer-");
let dir = "";
let backend: ContainerBackend;

afterEach(async () => {
  if (skip) return;
  await removeBackendState(backend, dir);
});

function setup(opts: { logSizeMaxBytes?: number } = {}): ContainerBackend {
  dir = mkdtempSync(join(tmpdir(), "nimbus-crun-"));
  backend = new ContainerBackend({ stateDir: dir, ...opts });
  return backend;
}

const spec = layer.spec;

test("a terminal process gets a pty, and its output is logged", { skip }, async () => {
  const b = setup();
  await b.create(spec("tty-1", ["sh", "-c", "tty; echo hi"], true));
  await b.start("tty-1");
  assert.equal((await b.wait("tty-1")).exitCode, 0);
  assert.equal(await readLogText(b.logPath("tty-1")), "/dev/pts/0\r\nhi\r\n");
});

test("conmon serves an attach socket while the container runs", { skip }, async () => {
  const b = setup();
  await b.create(spec("att-1", ["sleep", "600"]));
  await b.start("att-1");
  assert.ok(statSync(b.attachSocketPath("att-1")).isSocket());
});

test("the log stops growing at logSizeMaxBytes", { skip }, async () => {
  const b = setup({ logSizeMaxBytes: 64 * 1024 });
  await b.create(spec("log-1", ["sh", "-c", "yes 0123456789012345678901234567890123456789 | head -n 20000"]));
  await b.start("log-1");
  await b.wait("log-1");
  const size = statSync(b.logPath("log-1")).size;
  assert.ok(size <= 64 * 1024 + 4096, `log is ${size} bytes`);
});

test("wait reports lost when conmon dies, even while the process still runs (nobody would record its exit)", { skip }, async () => {
  const b = setup();
  await b.create(spec("lost-1", ["sleep", "1000"]));
  await b.start("lost-1");
  const conmonPid = Number(readFileSync(join(dir, "c", "lost-1", "conmon.pid"), "utf8"));
  process.kill(conmonPid, "SIGKILL");
  const t0 = Date.now();
  await assert.rejects(b.wait("lost-1"), (e) => isRuntimeError(e, "lost"));
  assert.ok(Date.now() - t0 < 5_000, "noticed within 5 s");
  // delete kills the unsupervised process and removes everything.
  await b.delete("lost-1");
  assert.equal(existsSync(join(dir, "c", "lost-1")), false);
});
