/**
 * Attack, issue 15 finding 1 (every host-side file operation stays inside the
 * sandbox root), for the tar upload and download of issue 18. A hostile
 * tenant's sandbox keeps swapping `/w/d` (and `/w/d/sub`) between real
 * directories and symlinks to a host directory while the tenant extracts
 * archives into `/w/d` and downloads `/w/d` as tar. A host-path walk or
 * extraction would put files (setuid, root-owned) into the host directory,
 * or archive the host's files. Now: the host directory is unchanged, no
 * downloaded archive holds a host file's content, and no answer is a 500.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tarArchive } from "../images/tar-writer.js";
import { hostDirEnv } from "../testing/host-dir-env.js";
import { raceTally } from "../testing/race-tally.js";

const TENANT = "attack-archive";
const ROUNDS = 120;
const CONCURRENCY = 6;
const HOST_CONTENT = "host-content-c41d";

const world = hostDirEnv(TENANT, "nimbus-attack-archive-", (hostDir) => {
  writeFileSync(join(hostDir, "host-file"), HOST_CONTENT);
  mkdirSync(join(hostDir, "sub"));
  writeFileSync(join(hostDir, "sub", "host-file"), HOST_CONTENT);
});

test("a symlink swapper racing tar uploads and downloads changes nothing on the host and leaks no host file", { timeout: 300_000 }, async (t) => {
  const before = world.hostTree();
  const swapper =
    `while :; do mkdir -p /w/real/sub; echo sandbox > /w/real/host-file; mv /w/real /w/d 2>/dev/null; ` +
    `mv /w/d/sub /w/d/sub.real 2>/dev/null; ln -s ${world.hostDir}/sub /w/d/sub 2>/dev/null; rm -f /w/d/sub 2>/dev/null; mv /w/d/sub.real /w/d/sub 2>/dev/null; ` +
    `mv /w/d /w/real 2>/dev/null; ln -s ${world.hostDir} /w/d 2>/dev/null; rm -f /w/d 2>/dev/null; done`;
  const id = (await world.env.create(TENANT, ["sh", "-c", swapper])).metadata.id;
  await world.env.waitFor(TENANT, id, ["ready"]);
  const url = `${world.env.srv.url}/api/tenants/${TENANT}/sandboxes/${id}/files/archive`;
  const headers = { authorization: `Bearer ${world.env.srv.token()}` };
  const archive = tarArchive([
    { path: "planted", type: "file", data: "#!/bin/sh\n", mode: 0o4755 },
    { path: "sub/planted", type: "file", data: "#!/bin/sh\n", mode: 0o4755 },
    { path: "sub/deeper/planted", type: "file", data: "x" },
  ]);
  const bad: string[] = [];
  const { counts: statuses, summary } = await raceTally(ROUNDS * 2, CONCURRENCY, async (i) => {
    const put = i % 2 === 0;
    const res = put ? await fetch(`${url}?path=/w/d`, { method: "PUT", headers, body: new Uint8Array(archive) }) : await fetch(`${url}?path=/w/d`, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    const key = `${put ? "put" : "get"}:${res.status}`;
    if (res.status >= 500) bad.push(`${key} ${body.toString().slice(0, 300)}`);
    if (body.includes(HOST_CONTENT)) bad.push(`${key}: the answer holds a host file's content`);
    return key;
  });
  const after = world.hostTree();
  await world.env.remove(TENANT, id);
  t.diagnostic(`statuses ${summary}`);
  assert.deepEqual(after, before, `the host directory changed through the sandbox's symlinks (statuses ${summary})`);
  assert.deepEqual(bad.slice(0, 5), [], `answers were 5xx or leaked host content (statuses ${summary})`);
  assert.ok((statuses.get("put:200") ?? 0) > 0, `no upload succeeded (${summary})`);
  assert.ok((statuses.get("get:200") ?? 0) > 0, `no download succeeded (${summary})`);
});
