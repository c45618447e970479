/**
 * Attack test for issue 15 finding 12, the full-disk part: a tenant (or a
 * runaway workload) fills the disk under the data dir, after which every
 * write the server makes fails half-way. The server must keep answering and
 * refuse the work that fills the disk — sandbox creates and image pulls and
 * loads — with 507 `service.insufficient_storage`. The nearly-full state is
 * simulated by a floor (--disk-free-min-bytes) set above the free space there
 * now, rather than by filling the host's disk. On the old code the create
 * answers 201 and the pull 200.
 *
 * The per-sandbox part: a hostile tenant's `dd` fills its writable layer past
 * `spec.resources.diskLimitBytes`. It must get ENOSPC inside that sandbox
 * only — a second sandbox and the host keep writing — also after a server
 * restart; and a server that cannot enforce the limit refuses the field (400
 * naming it) instead of recording a limit nothing enforces. On the old code
 * the dd writes all it asks for and the refused spec answers 201.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX, standaloneSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { startTestServer } from "../testing/server.js";
import { execCall } from "../testing/exec-call.js";

let env: SandboxEnv;
/** Floor off: these tests fill sandbox layers, not the host. */
let limited: SandboxEnv;
const MiB = 1024 * 1024;

before(async () => {
  // The test server's data dir is under the temp dir; a floor 1 TiB above its free space is never met.
  const s = statfsSync(tmpdir());
  env = await startSandboxEnv({ flags: { diskFreeMinBytes: String(s.bavail * s.bsize + 2 ** 40) } });
  await env.tenant("filler");
  limited = await startSandboxEnv({ flags: { diskFreeMinBytes: "0" } });
  await limited.tenant("hostile");
  await limited.tenant("neighbour");
});
after(async () => {
  await env?.close();
  await limited?.close();
});

function assertFull(r: { status: number; body: any }): void {
  assert.equal(r.status, 507, JSON.stringify(r.body));
  assert.equal(r.body.error.code, "service.insufficient_storage");
  assert.equal(r.body.error.retryable, true);
  assert.match(r.body.error.message, /nearly full.*free space/);
  assert.ok(r.body.error.detail.freeBytes < r.body.error.detail.minFreeBytes);
}

test("finding 12: with the disk nearly full, creates, pulls and loads answer 507 and nothing is left behind", async () => {
  const err = await env.create("filler", ["sleep", "600"]).catch((e: any) => e);
  assert.ok(err.response, `the create was accepted: ${JSON.stringify(err)}`);
  assertFull(err.response);
  assertFull(await env.srv.request("POST", "/api/images/pull", { body: { reference: BUSYBOX } }));
  assertFull(await env.srv.request("POST", "/api/images/load", { rawBody: "not a tarball" }));
  const listed = await env.srv.request("GET", "/api/tenants/filler/sandboxes");
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items, []);
  assert.deepEqual((await env.srv.request("GET", "/api/images")).body.items, []);
});

test("finding 12: with the disk nearly full, the server keeps answering everything that does not fill it", async () => {
  assert.equal((await env.srv.request("GET", "/health")).status, 200);
  assert.equal((await env.srv.request("POST", "/api/tenants", { body: { id: "another" } })).status, 201);
  assert.equal((await env.srv.request("GET", "/api/tenants/filler/limits")).status, 200);
  assert.equal((await env.srv.request("POST", "/api/images/prune")).status, 200);
});

/** Writes `mib` MiB to `path` inside the sandbox; the bytes that landed and dd's complaint. */
async function ddIn(e: SandboxEnv, tenant: string, id: string, path: string, mib: number): Promise<{ bytes: number; stderr: string; exitCode?: number }> {
  const r = await execCall(e, tenant, id, { argv: ["sh", "-c", `dd if=/dev/zero of=${path} bs=1M count=${mib}; rc=$?; sync; wc -c < ${path}; exit $rc`] });
  assert.equal(r.status, 200, JSON.stringify(r));
  return { bytes: Number(r.stdout.trim()), stderr: r.stderr, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}) };
}

async function readyIn(e: SandboxEnv, tenant: string, resources?: Record<string, number>): Promise<{ id: string; createMs: number }> {
  const id = (await e.create(tenant, ["sleep", "600"], resources ? { resources } : {})).metadata.id;
  const body = await e.waitFor(tenant, id, ["ready"]);
  return { id, createMs: body.status.phases?.createMs ?? -1 };
}

test("finding 12: dd past diskLimitBytes gets ENOSPC in that sandbox only; a neighbour and the host keep writing, also after a restart", async (t) => {
  const hostile = await readyIn(limited, "hostile", { diskLimitBytes: 32 * MiB });
  const neighbour = await readyIn(limited, "neighbour");
  const neighbourLimited = await readyIn(limited, "neighbour", { diskLimitBytes: 64 * MiB });
  t.diagnostic(`createMs with a disk limit: ${hostile.createMs}, ${neighbourLimited.createMs}; without: ${neighbour.createMs}`);

  const dd = await ddIn(limited, "hostile", hostile.id, "/fill", 100);
  assert.match(dd.stderr, /No space left on device/, `dd was not stopped: ${JSON.stringify(dd)}`);
  assert.notEqual(dd.exitCode, 0);
  assert.ok(dd.bytes <= 32 * MiB, `the sandbox wrote ${dd.bytes} bytes past its 32 MiB limit`);
  assert.ok(dd.bytes >= 24 * MiB, `the sandbox could write only ${dd.bytes} bytes of its 32 MiB`);

  // An upload through the files channel meets the same limit: 507 with a message, no 500.
  const up = await limited.srv.request("PUT", `/api/tenants/hostile/sandboxes/${hostile.id}/files/content?path=/more`, {
    rawBody: "x".repeat(8 * MiB),
  });
  assert.equal(up.status, 507, JSON.stringify(up.body));
  assert.equal(up.body.error.code, "service.insufficient_storage");

  // Its neighbours (with and without a limit of their own) and the host still write.
  const other = await ddIn(limited, "neighbour", neighbour.id, "/data", 48);
  assert.equal(other.exitCode, 0, other.stderr);
  assert.equal(other.bytes, 48 * MiB);
  const otherLimited = await ddIn(limited, "neighbour", neighbourLimited.id, "/data", 48);
  assert.equal(otherLimited.exitCode, 0, otherLimited.stderr);
  const hostDir = mkdtempSync(join(limited.srv.root, "host-write-"));
  try {
    writeFileSync(join(hostDir, "f"), Buffer.alloc(48 * MiB));
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
  }

  // Freeing space inside works; the limit holds across a server restart (the sandbox keeps running).
  assert.equal((await execCall(limited, "hostile", hostile.id, { argv: ["rm", "/fill"] })).exitCode, 0);
  await limited.restart();
  await limited.waitFor("hostile", hostile.id, ["ready"]);
  const again = await ddIn(limited, "hostile", hostile.id, "/fill2", 100);
  assert.match(again.stderr, /No space left on device/, `after the restart dd was not stopped: ${JSON.stringify(again)}`);
  assert.ok(again.bytes <= 32 * MiB);

  for (const [tenant, id] of [
    ["hostile", hostile.id],
    ["neighbour", neighbour.id],
    ["neighbour", neighbourLimited.id],
  ] as const) {
    assert.equal((await limited.remove(tenant, id)).status, 204);
  }
});

test("finding 12: a diskLimitBytes below 16 MiB is refused with 400 naming the field", async () => {
  const err = await limited.create("hostile", ["true"], { resources: { diskLimitBytes: 4096 } }).catch((e: any) => e);
  assert.equal(err.response?.status, 400, JSON.stringify(err.response?.body));
  assert.equal(err.response.body.error.detail.field, "spec.resources.diskLimitBytes");
});

test("finding 12: a server that cannot enforce disk limits refuses a spec with diskLimitBytes (400 naming the field), not pretending", async () => {
  const srv = await startTestServer({ flags: { diskLimits: "off" } });
  try {
    assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "hostile" } })).status, 201);
    const spec = (resources?: Record<string, number>) => ({
      ...standaloneSandboxBody("registry.invalid/none:latest", "nolimit", { argv: ["true"] }, resources ? { resources } : {}),
      labels: {},
    });
    const r = await srv.request("POST", "/api/tenants/hostile/sandboxes", { body: spec({ diskLimitBytes: 64 * MiB }) });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "op.invalid_input");
    assert.equal(r.body.error.detail.field, "spec.resources.diskLimitBytes");
    assert.match(r.body.error.message, /cannot be enforced.*--disk-limits off/);
    assert.deepEqual((await srv.request("GET", "/api/tenants/hostile/sandboxes")).body.items, []);
  } finally {
    await srv.stop();
    await srv.close();
  }
});
