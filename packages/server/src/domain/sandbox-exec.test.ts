/**
 * runExec against a container whose process already ended (issue 15 finding
 * 14): crun's "container is not running" is a 409 op.conflict, never an exit
 * code in a 200; a command's own "… is not running" on stderr stays output.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ContainerBackend } from "../runtime/index.js";
import { busyboxLayerForFile, crunSkip as skip, removeBackendState } from "../testing/busybox-containers.js";
import { AppError } from "./errors.js";
import { runExec } from "./sandbox-exec.js";

let dir = "";
let backend: ContainerBackend;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "nimbus-exec-"));
  backend = new ContainerBackend({ stateDir: dir });
});
after(async () => {
  if (!skip) await removeBackendState(backend, dir);
});
const layer = busyboxLayerForFile("nimbus-exec-layer-");

const sink = { stdout: () => undefined, stderr: () => undefined };

test("exec into a container whose process ended is op.conflict; a command's own 'is not running' is its output", { skip }, async () => {
  await backend.create(layer.spec("ended-1", ["sleep", "1000"]) as any);
  await backend.start("ended-1");
  const own = await runExec(backend, "ended-1", { argv: ["sh", "-c", "echo 'the service is not running' >&2; exit 3"] }, sink);
  assert.equal(own.exitCode, 3);
  await backend.signal("ended-1", "SIGKILL");
  await backend.wait("ended-1");
  await assert.rejects(runExec(backend, "ended-1", { argv: ["true"] }, sink), (e) => e instanceof AppError && e.code === "op.conflict");
});
