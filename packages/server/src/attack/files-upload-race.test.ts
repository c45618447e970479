/**
 * Attack, issue 15 finding 1 (and the upload half of finding 15): a hostile
 * tenant's sandbox runs a busybox loop that keeps swapping a directory for a
 * symlink to a host directory (`/w/d` is a real dir one moment, `-> /tmp/<host
 * dir>` the next) while the tenant uploads into `/w/d/` through the files
 * channel. Resolving by host path let some uploads (and their temp files)
 * land in the host directory, root-owned. Now nothing may appear outside the
 * sandbox root, and a raced upload answers 2xx or 4xx, never 500.
 *
 * Also finding 3 (uploads strip setuid/setgid): an upload with mode 4755 into
 * a sandbox whose process runs as 1000:1000 yields a 0755 file owned by
 * 1000:1000, not a setuid-root binary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { Nimbus } from "@nimbus/nimbus";
import { busyboxSandboxBody } from "../testing/sandbox-env.js";
import { hostDirEnv } from "../testing/host-dir-env.js";
import { raceTally } from "../testing/race-tally.js";

const TENANT = "attack-race";
const UPLOADS = 1000;
const CONCURRENCY = 8;

const world = hostDirEnv(TENANT, "nimbus-attack-race-");

async function createAs(argv: string[], user?: string): Promise<string> {
  const r = await world.env.srv.request("POST", `/api/tenants/${TENANT}/sandboxes`, {
    body: busyboxSandboxBody(argv, { displayName: "attacker", ...(user ? { user } : {}) }),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.metadata.id as string;
  await world.env.waitFor(TENANT, id, ["ready"]);
  return id;
}

async function upload(id: string, path: string, data: string, mode?: string, user?: string): Promise<{ status: number; body: string }> {
  const q = new URLSearchParams({ path, ...(mode ? { mode } : {}), ...(user ? { user } : {}) });
  const res = await fetch(`${world.env.srv.url}/api/tenants/${TENANT}/sandboxes/${id}/files/content?${q}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${world.env.srv.token()}` },
    body: data,
  });
  return { status: res.status, body: await res.text() };
}

test("a symlink swapper racing 1,000 uploads writes nothing outside the sandbox and gets no 500", { timeout: 240_000 }, async (t) => {
  // d flips between a real directory and a symlink to the host directory, as fast as busybox can.
  const swapper = `mkdir -p /w/real; while :; do mv /w/real /w/d 2>/dev/null; mv /w/d /w/real 2>/dev/null; ln -s ${world.hostDir} /w/d 2>/dev/null; rm -f /w/d 2>/dev/null; done`;
  const id = await createAs(["sh", "-c", swapper]);
  const fiveHundreds: string[] = [];
  const { counts: statuses, summary } = await raceTally(UPLOADS, CONCURRENCY, async (i) => {
    const r = await upload(id, `/w/d/f${i % 50}`, `upload ${i}\n`, "4755");
    if (r.status >= 500) fiveHundreds.push(`${r.status} ${r.body}`);
    return r.status;
  });
  const escaped = readdirSync(world.hostDir);
  await world.env.remove(TENANT, id);
  t.diagnostic(`statuses ${summary}`);
  assert.deepEqual(escaped, [], `files created on the host through the sandbox's symlink (statuses ${summary})`);
  assert.deepEqual(fiveHundreds.slice(0, 5), [], `uploads answered 5xx (statuses ${summary})`);
  for (const status of statuses.keys()) assert.ok([200, 400, 404, 409].includes(status), `unexpected status ${status} (statuses ${summary})`);
  // The race was really run: some uploads landed inside the sandbox, some met the symlink or the gap.
  assert.ok((statuses.get(200) ?? 0) > 0, `no upload succeeded (statuses ${summary})`);
});

test("an upload with mode 4755 yields a file without setuid/setgid, owned by the sandbox's user", async () => {
  const id = await createAs(["sleep", "100000"], "1000:1000");
  const r = await upload(id, "/tmp/suid", "#!/bin/sh\nid -u\n", "6755");
  assert.equal(r.status, 200, r.body);
  const nimbus = new Nimbus({ endpoint: world.env.srv.url, token: world.env.srv.token(), tenantId: TENANT });
  const exec = await nimbus.sandboxes.exec({ id, argv: ["stat", "-c", "%a %u %g", "/tmp/suid"] });
  assert.equal(exec.stdout.toString().trim(), "755 1000 1000");
  // The request may name the owner instead; ids that would wrap are refused.
  assert.equal((await upload(id, "/tmp/named", "x", "4700", "1234:5678")).status, 200);
  const named = await nimbus.sandboxes.exec({ id, argv: ["stat", "-c", "%a %u %g", "/tmp/named"] });
  assert.equal(named.stdout.toString().trim(), "700 1234 5678");
  const wrapped = await upload(id, "/tmp/wrapped", "x", undefined, "4294967296");
  assert.equal(wrapped.status, 400, wrapped.body);
  assert.match(wrapped.body, /uid\[:gid\]/);
  await world.env.remove(TENANT, id);
});
