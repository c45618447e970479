/**
 * Attack, issue 15 finding 16 (leaks after failures): a tenant sends 200
 * creates that all fail, of every kind it can make fail, hoping each leaves
 * something behind on the host (fds, mounts, cgroups, conmon processes,
 * bundles, temp dirs) until the server runs out. After the burst (and after
 * deleting the failed records) everything returns to the baseline.
 *
 * Kinds: bad image reference (400), missing image (pull_failed), unknown user
 * name (start_failed), executable not found, bad spec (400), tenant quota
 * exceeded (429), a disk limit below the minimum (400) or one whose create
 * fails after its image is mounted. To add a kind, add an entry to KINDS.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { BUSYBOX, standaloneSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { findLeftovers, describeLeftovers } from "../runtime/leak-check.js";

let env: SandboxEnv;
const T = "failing";
const FULL = "full";
const MAX_ACTIVE = 6;
const TOTAL = 200;
const CONCURRENCY = 5;

before(async () => {
  env = await startSandboxEnv({ flags: { tenantMaxSandboxes: String(MAX_ACTIVE) } });
  await env.tenant(T);
  await env.tenant(FULL);
});
after(async () => {
  await env?.close();
});

function body(process: Record<string, unknown>, reference = BUSYBOX, extra: Record<string, unknown> = {}) {
  return { ...standaloneSandboxBody(reference, "leak", process, extra), labels: {} };
}

interface Kind {
  name: string;
  tenant: string;
  body: () => unknown;
  /** The immediate answer: 201 (the failure comes later, in the state) or the error status. */
  expect: number;
}

const KINDS: Kind[] = [
  { name: "bad image reference", tenant: T, body: () => body({ argv: ["true"] }, "UPPER/Case::nope@@"), expect: 400 },
  { name: "missing image", tenant: T, body: () => body({ argv: ["true"] }, "docker.io/library/no-such-image:latest"), expect: 201 },
  { name: "unknown user name", tenant: T, body: () => body({ argv: ["true"], user: "no-such-user" }), expect: 201 },
  { name: "executable not found", tenant: T, body: () => body({ argv: ["/no/such/binary"] }), expect: 201 },
  { name: "bad spec", tenant: T, body: () => body({ argv: ["true"] }, BUSYBOX, { resources: { cpuCount: -3 } }), expect: 400 },
  { name: "tenant quota exceeded", tenant: FULL, body: () => body({ argv: ["sleep", "1000"] }), expect: 429 },
  { name: "disk limit too small", tenant: T, body: () => body({ argv: ["true"] }, BUSYBOX, { resources: { diskLimitBytes: 4096 } }), expect: 400 },
  // Fails after its disk-limit image is made and mounted: the loop device and mount must go too.
  {
    name: "disk limit, executable not found",
    tenant: T,
    body: () => body({ argv: ["/no/such/binary"] }, BUSYBOX, { resources: { diskLimitBytes: 32 * 1024 * 1024 } }),
    expect: 201,
  },
];

/** Entries below a dir (recursively); the server keeps its temp files under its data dir, not /tmp. */
function countEntries(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.name) n++;
  return n;
}

function snapshot() {
  const data = join(env.srv.root, "data");
  return {
    fds: readdirSync("/proc/self/fd").length,
    // Image downloads in progress, and the logs kept for finished sandboxes.
    tmp: countEntries(join(data, "images", "tmp")) + countEntries(join(data, "sandboxes")),
  };
}

test(`${TOTAL} failed creates of every kind leave no fds, mounts, cgroups, conmons or temp dirs behind`, { timeout: 240_000 }, async () => {
  // The quota tenant is full with MAX_ACTIVE running sandboxes.
  const keep: string[] = [];
  for (let i = 0; i < MAX_ACTIVE; i++) keep.push((await env.create(FULL, ["sleep", "1000"])).metadata.id);
  for (const id of keep) await env.waitFor(FULL, id, ["ready"]);
  // Warm-up: one of each, so lazily created things (watchers, pools, caches) exist in the baseline.
  const runOne = async (k: Kind): Promise<string | undefined> => {
    const r = await env.srv.request("POST", `/api/tenants/${k.tenant}/sandboxes`, { body: k.body() });
    assert.equal(r.status, k.expect, `${k.name}: ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status !== 201) {
      assert.equal(typeof r.body.error?.code, "string", `${k.name}: error envelope`);
      return undefined;
    }
    const id = r.body.metadata.id as string;
    const final = await env.waitFor(k.tenant, id, ["failed", "stopped"], 20_000).catch((err: Error) => {
      throw new Error(`${k.name}: ${err.message}`);
    });
    assert.notEqual(final.status.lifecycleState, "ready");
    const del = await env.srv.request("DELETE", `/api/tenants/${k.tenant}/sandboxes/${id}`);
    assert.ok(del.status < 300, `${k.name}: delete ${del.status}`);
    return id;
  };
  for (const k of KINDS) await runOne(k);
  const stateDir = join(env.srv.root, "data", "runtime");
  const base = snapshot();
  const baseLeft = await findLeftovers(stateDir, { idleGroups: "ignore" });

  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        const k = KINDS[next++ % KINDS.length]!;
        await runOne(k);
      }
    }),
  );
  const tookMs = Date.now() - t0;

  // Give async cleanup (reaping, unmounts) a moment, then compare.
  let now = snapshot();
  for (let i = 0; i < 20 && now.fds > base.fds + 2; i++) {
    await new Promise((r) => setTimeout(r, 250));
    now = snapshot();
  }
  const left = await findLeftovers(stateDir, { idleGroups: "ignore" });
  // The quota tenant's sandboxes are the only expected runtime state.
  const extra = describeLeftovers(left).filter((l) => !describeLeftovers(baseLeft).includes(l));
  assert.deepEqual(extra, [], `left on the host after ${TOTAL} failed creates (${tookMs} ms)`);
  // A few fds of slack for sockets of the test's own HTTP client.
  assert.ok(now.fds <= base.fds + 4, `fds: ${base.fds} before, ${now.fds} after`);
  assert.equal(now.tmp, base.tmp, "temp files and kept logs under the data dir");

  for (const id of keep) assert.ok((await env.remove(FULL, id)).status < 300);
});
