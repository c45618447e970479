/**
 * The processes domain's bookkeeping on a real SQLite store, with a runtime
 * facet that records calls (no processes run: the real runtime is covered by
 * api/processes.test.ts): records of ended processes are pruned after the
 * retention and past the newest N per sandbox, with their runtime traces;
 * slots are held while running and given back at the end; a running record
 * found at start (a restart) is watched again with its deadline.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { silentLogger } from "../log.js";
import type { ProcessState, ProcessesFacet } from "../runtime/backend.js";
import { statement } from "../store/db.js";
import { ProcessStore } from "../store/process-store.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import { Processes } from "./processes.js";
import { TenantCaps } from "./tenant-caps.js";
import type { TenantLimits } from "./tenant-limits.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";

let tmp: TempDb;

beforeEach(() => {
  tmp = openTempDb("nimbus-processes-");
  statement(tmp.db, "INSERT INTO tenants (tenant_id, created_at) VALUES ('t', '2026-01-01T00:00:00Z')").run();
});
afterEach(() => {
  tmp.close();
});

/** A facet whose processes end when the test says so. */
class Recorder implements ProcessesFacet {
  readonly removed: string[] = [];
  readonly signals: Array<[string, string]> = [];
  readonly ends = new Map<string, (exit: NonNullable<ProcessState["exit"]>) => void>();
  async start(_c: string, key: string) {
    return { pid: 4242 };
  }
  async state() {
    return { running: true };
  }
  wait(_c: string, key: string) {
    return new Promise<NonNullable<ProcessState["exit"]>>((resolve) => this.ends.set(key, resolve));
  }
  async signal(_c: string, key: string, signal: NodeJS.Signals) {
    this.signals.push([key, signal]);
    this.ends.get(key)?.({ exitCode: 137, signal: "SIGKILL", finishedAt: new Date().toISOString() });
  }
  stdio(): never {
    throw new Error("no stdio here");
  }
  async closeStdin() {}
  async remove(_c: string, key: string) {
    this.removed.push(key);
  }
}

const SANDBOX = { id: "sb", tenantId: "t", lifecycleState: "ready" } as SandboxRow;

function make(runtime: Recorder, opts: { retentionMs?: number; keepEnded?: number; maxExecs?: number } = {}) {
  const limits: TenantLimits = {
    memoryLimitBytes: 1 << 30,
    cpuCount: 1,
    pidsLimit: 100,
    maxSandboxes: 10,
    maxSessions: 10,
    maxWebSockets: 10,
    maxExecs: opts.maxExecs ?? 64,
    maxPulls: 1,
  };
  const caps = new TenantCaps(() => limits);
  return new Processes({
    store: new ProcessStore(tmp.db),
    runtime,
    sandbox: () => SANDBOX,
    findSandbox: () => SANDBOX,
    caps,
    log: silentLogger,
    retentionMs: opts.retentionMs,
    keepEnded: opts.keepEnded,
  });
}

const tick = () => new Promise((r) => setTimeout(r, 10));

test("ended records go after the retention and past the newest N per sandbox, with their runtime traces", async () => {
  const runtime = new Recorder();
  const p = make(runtime, { retentionMs: 60_000, keepEnded: 2 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await p.create("t", "sb", { argv: ["true"], detach: true })).id);
  for (const id of ids) {
    runtime.ends.get(id)!({ exitCode: 0, finishedAt: new Date(Date.now() + ids.indexOf(id)).toISOString() });
    await tick();
  }
  assert.deepEqual(
    p.list("t", "sb").map((x) => x.state),
    ["exited", "exited", "exited", "exited"],
  );
  p.prune();
  assert.deepEqual(
    p.list("t", "sb").map((x) => x.id),
    ids.slice(2),
    "only the newest 2 ended ones are kept",
  );
  assert.deepEqual(runtime.removed.sort(), ids.slice(0, 2).sort());
  const short = make(runtime, { retentionMs: 1, keepEnded: 100 });
  await new Promise((r) => setTimeout(r, 5));
  short.prune();
  assert.deepEqual(p.list("t", "sb"), [], "past the retention every ended record goes");
  p.close();
  short.close();
});

test("a running process holds a maxExecs slot until it ends", async () => {
  const runtime = new Recorder();
  const p = make(runtime, { maxExecs: 1 });
  const first = await p.create("t", "sb", { cmd: "sleep 1", detach: true });
  await assert.rejects(p.create("t", "sb", { argv: ["true"], detach: true }), (e: { code?: string }) => e.code === "rate.resource_exhausted");
  runtime.ends.get(first.id)!({ exitCode: 0, finishedAt: new Date().toISOString() });
  await tick();
  await p.create("t", "sb", { argv: ["true"], detach: true });
  p.close();
});

test("after a restart, a running record is watched again and its timeout still fires", async () => {
  const runtime = new Recorder();
  const before = make(runtime);
  const created = await before.create("t", "sb", { argv: ["sleep", "100"], detach: true, timeoutMs: 300 });
  before.close(); // the server stops; the process runs on
  const after = make(runtime);
  after.start();
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(runtime.signals, [[created.id, "SIGKILL"]]);
  await tick();
  const v = after.get("t", "sb", created.id);
  assert.equal(v.state, "exited");
  assert.equal(v.reason, "timeout");
  after.close();
});
