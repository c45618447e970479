/**
 * Attack, issue 15 finding 1 (every host-side file operation stays inside the
 * sandbox root), for the files API of issue 18: list, stat, mkdir, remove and
 * rename. A hostile tenant's sandbox runs a busybox loop that keeps swapping
 * `/w/d` between a real directory and a symlink to a host directory, while
 * the tenant hammers the new operations on paths through `/w/d`. Resolving by
 * host path (or following a symlink while walking) would list the host
 * directory's entries, create directories in it, remove or move its files.
 * Now: nothing on the host changes, no host name appears in an answer, and
 * every answer is 2xx or 4xx, never 500.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostDirEnv } from "../testing/host-dir-env.js";
import { raceTally } from "../testing/race-tally.js";

const TENANT = "attack-tree";
const ROUNDS = 150;
const CONCURRENCY = 6;
const MARKER = "host-marker-7f3a";

const world = hostDirEnv(TENANT, "nimbus-attack-tree-", (hostDir) => {
  writeFileSync(join(hostDir, MARKER), "host file\n");
  mkdirSync(join(hostDir, `${MARKER}-dir`));
  writeFileSync(join(hostDir, `${MARKER}-dir`, "inner"), "host file\n");
});

test("a symlink swapper racing list/stat/mkdir/remove/rename changes nothing on the host and gets no 500", { timeout: 300_000 }, async (t) => {
  const before = world.hostTree();
  // d flips between a real directory (holding the same names as the host dir) and a symlink to the host directory.
  const swapper =
    `mkdir -p /w/real/${MARKER}-dir; while :; do touch /w/real/${MARKER}; mkdir -p /w/real/${MARKER}-dir /w/real/sub; ` +
    `mv /w/real /w/d 2>/dev/null; mv /w/d /w/real 2>/dev/null; ln -s ${world.hostDir} /w/d 2>/dev/null; rm -f /w/d 2>/dev/null; done`;
  const id = (await world.env.create(TENANT, ["sh", "-c", swapper])).metadata.id;
  await world.env.waitFor(TENANT, id, ["ready"]);
  const base = `/api/tenants/${TENANT}/sandboxes/${id}/files`;
  const ops: Array<() => Promise<{ status: number; body: any }>> = [
    () => world.env.srv.request("GET", `${base}/list?path=/w&depth=4`),
    () => world.env.srv.request("GET", `${base}/list?path=/w/d`),
    () => world.env.srv.request("GET", `${base}/stat?path=/w/d/${MARKER}`),
    () => world.env.srv.request("POST", `${base}/mkdir`, { body: { path: "/w/d/made/deeper", parents: true } }),
    () => world.env.srv.request("POST", `${base}/mkdir`, { body: { path: "/w/d/made2" } }),
    () => world.env.srv.request("POST", `${base}/remove`, { body: { path: `/w/d/${MARKER}` } }),
    () => world.env.srv.request("POST", `${base}/remove`, { body: { path: `/w/d/${MARKER}-dir`, recursive: true } }),
    () => world.env.srv.request("POST", `${base}/remove`, { body: { path: "/w", recursive: true } }),
    () => world.env.srv.request("POST", `${base}/rename`, { body: { from: `/w/d/${MARKER}`, to: "/w/stolen" } }),
    () => world.env.srv.request("POST", `${base}/rename`, { body: { from: "/w/stolen", to: `/w/d/planted` } }),
  ];
  const bad: string[] = [];
  const { counts: statuses, summary } = await raceTally(ROUNDS * ops.length, CONCURRENCY, async (i) => {
    const r = await ops[i % ops.length]!();
    if (r.status >= 500) bad.push(`op ${i % ops.length}: ${r.status} ${JSON.stringify(r.body)}`);
    // A listing or stat that saw through the symlink names the host's inner file.
    if (r.status === 200 && JSON.stringify(r.body).includes(`${MARKER}-dir/inner`))
      bad.push(`op ${i % ops.length} revealed a host entry: ${JSON.stringify(r.body)}`);
    return `${i % ops.length}:${r.status}`;
  });
  const after = world.hostTree();
  await world.env.remove(TENANT, id);
  t.diagnostic(`op:status counts ${summary}`);
  assert.deepEqual(after, before, `the host directory changed through the sandbox's symlink (statuses ${summary})`);
  assert.deepEqual(bad.slice(0, 5), [], `answers were 5xx or saw host entries (statuses ${summary})`);
  // The race was really run: the operations succeeded some of the time.
  for (const op of [0, 3, 6]) assert.ok((statuses.get(`${op}:200`) ?? 0) + (statuses.get(`${op}:201`) ?? 0) > 0, `op ${op} never succeeded (${summary})`);
});
