/**
 * Attack, issue 15 finding 14 (conmon killed goes unnoticed): whoever can
 * kill a sandbox's monitor (an OOM kill, a crash, a local user with the
 * rights) used to leave the sandbox `ready` forever, even after its process
 * exited, and exec answered 200 with "container is not running".
 *
 * The server's choice, documented in docs/sandboxes.md: a sandbox whose
 * monitor is gone has no exit record, no stdio and no log any more, so it is
 * marked `failed` with reason `lost` within a few seconds and its process is
 * stopped; it is never reported `ready` again. Exec on it is a 409.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sandboxEnvForFile } from "../testing/sandbox-env-for-file.js";

const T = "monitorkilled";
const world = sandboxEnvForFile([T]);

function alive(pid: number): boolean {
  try {
    // A zombie is dead for our purpose.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function until(pred: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await pred()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Infinity;
}

/** A ready `sleep 1000` sandbox and the host pids of its monitor (conmon) and main process, from its bundle. */
async function readySleeper(): Promise<{ id: string; conmonPid: number; mainPid: number }> {
  const id = (await world.env.create(T, ["sleep", "1000"])).metadata.id;
  await world.env.waitFor(T, id, ["ready"]);
  const bundle = join(world.env.srv.root, "data", "runtime", "c", id);
  const conmonPid = Number(readFileSync(join(bundle, "conmon.pid"), "utf8").trim());
  const mainPid = Number(readFileSync(join(bundle, "pidfile"), "utf8").trim());
  return { id, conmonPid, mainPid };
}

/** Polls the sandbox for 5 s: how long it took to leave `ready` (Infinity if it did not) and the last body read. */
async function untilNotReady(id: string): Promise<{ took: number; last: any }> {
  let last: any;
  const took = await until(async () => {
    last = (await world.env.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).body;
    return last.status.lifecycleState !== "ready";
  }, 5_000);
  return { took, last };
}

test("kill -9 of the sandbox's conmon: within 5 s the sandbox is failed/lost, its process ends, exec is a 409", { timeout: 60_000 }, async () => {
  const { id, conmonPid, mainPid } = await readySleeper();
  assert.ok(alive(conmonPid) && alive(mainPid));

  process.kill(conmonPid, "SIGKILL");
  const { took, last } = await untilNotReady(id);
  assert.ok(took < 5_000, `still ${JSON.stringify(last?.status)} 5 s after conmon was killed`);
  assert.equal(last.status.lifecycleState, "failed");
  assert.equal(last.status.reason, "lost");
  assert.match(last.status.conditions[0].message, /monitor/);

  // The process is not left running unsupervised.
  if (alive(mainPid)) process.kill(mainPid, "SIGKILL");
  assert.ok((await until(async () => !alive(mainPid), 5_000)) < 5_000, "the main process still runs");
  const after = (await world.env.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).body;
  assert.notEqual(after.status.lifecycleState, "ready");

  const exec = await world.env.srv.request("POST", `/api/tenants/${T}/sandboxes/${id}/exec`, { body: { argv: ["true"] } });
  assert.equal(exec.status, 409, JSON.stringify(exec.body));
  assert.equal(exec.body.error.code, "op.conflict");

  assert.ok((await world.env.remove(T, id)).status < 300);
});

test("kill -9 of conmon, then of the main process at once: the sandbox leaves ready within 5 s, exec is 4xx", { timeout: 60_000 }, async () => {
  const { id, conmonPid, mainPid } = await readySleeper();
  process.kill(conmonPid, "SIGKILL");
  process.kill(mainPid, "SIGKILL");
  const { took, last } = await untilNotReady(id);
  assert.ok(took < 5_000, `still ${JSON.stringify(last?.status)} 5 s after its process died`);
  const exec = await world.env.srv.request("POST", `/api/tenants/${T}/sandboxes/${id}/exec`, { body: { argv: ["true"] } });
  assert.ok(exec.status >= 400 && exec.status < 500, `exec answered ${exec.status}: ${JSON.stringify(exec.body)}`);
  assert.ok((await world.env.remove(T, id)).status < 300);
});
