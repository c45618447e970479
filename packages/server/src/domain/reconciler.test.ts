// Create's first state and the boot reconciler's relaunch, on a real SQLite
// store with the fake runtime: with the image present, create records
// `starting` (no pull, so no `pending`); create answers once its record is on
// disk, while the launch goes on meanwhile; a sandbox the server recorded but never
// gave a container (it went away right after the insert) is relaunched at boot,
// whether it was `pending` or `starting`, and ends `ready`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { ImageRecord } from "../images/index.js";
import { silentLogger } from "../log.js";
import { FakeBackend, FakeHost } from "../runtime/fake/fake-backend.js";
import { SandboxStore } from "../store/sandbox-store.js";
import { TenantStore } from "../store/tenant-store.js";
import { EventBus } from "./events.js";
import { Sandboxes } from "./sandboxes.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";

const IMAGE: ImageRecord = {
  reference: "docker.io/library/busybox:latest",
  digest: "sha256:" + "b".repeat(64),
  config: { entrypoint: null, cmd: ["sh"], env: [], workingDir: "/", user: "", exposedPorts: [], labels: {} },
  layers: [],
  sizeBytes: 0,
  pulledAt: new Date(0).toISOString(),
};

const SPEC: SandboxSpec = {
  owner: { kind: "standalone", displayName: "box" },
  backend: "container",
  root: { kind: "oci_image", source: { kind: "reference", reference: "busybox" } },
  process: { argv: ["sleep", "1000"] },
};

let tmp: TempDb;
let host: FakeHost;
let pulls: number;
const opened: Sandboxes[] = [];

/**
 * A server's Sandboxes on the shared store and fake host; `present` says whether
 * the image is already here; `stall` makes that step never finish (the server
 * "goes away" there).
 */
function server(present: boolean, stall?: "pull" | "create", wal?: { sync(): Promise<void> }): { sandboxes: Sandboxes; runtime: FakeBackend } {
  const runtime = new FakeBackend({ host });
  if (stall === "create") runtime.create = () => new Promise(() => undefined);
  const sandboxes = new Sandboxes({
    store: new SandboxStore(tmp.db, wal),
    images: {
      present: () => (present ? IMAGE : undefined),
      pull: async () => {
        pulls++;
        if (stall === "pull") await new Promise(() => undefined);
        return IMAGE;
      },
    },
    runtime,
    events: new EventBus(),
    log: silentLogger,
    retainedDir: join(tmp.dir, "retained"),
  });
  opened.push(sandboxes);
  return { sandboxes, runtime };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
}

beforeEach(() => {
  tmp = openTempDb("nimbus-reconcile-");
  new TenantStore(tmp.db).insert("t1", new Date().toISOString());
  host = new FakeHost();
  pulls = 0;
});

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  tmp.close();
});

test("create answers starting when the image is present, pending when it must be pulled", async () => {
  const here = server(true).sandboxes;
  const fast = await here.create("t1", { profile: "worker", spec: SPEC });
  assert.equal(fast.lifecycleState, "starting");
  assert.equal(fast.imageDigest, IMAGE.digest, "the digest is known at once");
  await until(() => here.get("t1", fast.id).lifecycleState === "ready", "ready");
  assert.equal(pulls, 0, "nothing was pulled");

  const away = server(false).sandboxes;
  const slow = await away.create("t1", { profile: "worker", spec: SPEC });
  assert.equal(slow.lifecycleState, "pending");
  await until(() => away.get("t1", slow.id).lifecycleState === "ready", "ready after the pull");
  assert.equal(pulls, 1);
});

test("create answers only once the record is on disk; the launch does not wait for that", async () => {
  let synced!: () => void;
  const disk = new Promise<void>((r) => (synced = r));
  const here = server(true, undefined, { sync: () => disk }).sandboxes;
  let answered = false;
  const created = here.create("t1", { profile: "worker", spec: SPEC }).then((row) => ((answered = true), row));
  await until(() => host.containers.size === 1, "the launch to start");
  assert.equal(answered, false, "no answer before the record is synced");
  synced();
  const row = await created;
  assert.equal(here.get("t1", row.id).id, row.id);
});

for (const state of ["pending", "starting"] as const) {
  test(`a sandbox recorded ${state} whose container was never made is relaunched at boot and becomes ready`, async () => {
    // The first server records the sandbox, then goes away before any container exists.
    const first = server(state === "starting", state === "pending" ? "pull" : "create");
    const row = await first.sandboxes.create("t1", { profile: "worker", spec: SPEC });
    assert.equal(row.lifecycleState, state);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(first.sandboxes.get("t1", row.id).lifecycleState, state, "still there when the server goes away");
    first.sandboxes.close();
    assert.equal(host.containers.size, 0);

    const second = server(true);
    const report = await second.sandboxes.reconcile(silentLogger);
    assert.deepEqual(report.relaunched, [row.id]);
    assert.deepEqual(report.lost, []);
    await until(() => second.sandboxes.get("t1", row.id).lifecycleState === "ready", "ready after the relaunch");
    assert.equal(host.containers.get(row.id)?.status, "running");
  });
}
