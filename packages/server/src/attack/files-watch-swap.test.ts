/**
 * Attack, issue 15 finding 1 (every host-side file operation stays inside the
 * sandbox root), for the files `watch` of issue 18. A hostile tenant's
 * sandbox keeps swapping `/w/d` between a real directory and a symlink to a
 * host directory, and plants symlinks to it below `/w`, while the tenant
 * opens watches on `/w/d` and recursive watches on `/w`. A watch added by
 * host path (fs.watch, or inotify on rootfs + path) lands on the host
 * directory when it meets the symlink and streams the host's file names.
 * Now: while the host writes files into that directory, no watch ever
 * reports one, and no answer is a 500.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readNdjson } from "../testing/ndjson-watch.js";
import { hostDirEnv } from "../testing/host-dir-env.js";
import { raceTally, type RaceTally } from "../testing/race-tally.js";

const TENANT = "attack-watch";
const OPENS = 60;
const CONCURRENCY = 3;

const world = hostDirEnv(TENANT, "nimbus-attack-watch-");

test("watches opened while a swapper flips a directory to a host symlink never report host files", { timeout: 300_000 }, async (t) => {
  const swapper =
    `mkdir -p /w/real; ln -s ${world.hostDir} /w/planted; while :; do mv /w/real /w/d 2>/dev/null; mv /w/d /w/real 2>/dev/null; ` +
    `ln -s ${world.hostDir} /w/d 2>/dev/null; rm -f /w/d 2>/dev/null; done`;
  const id = (await world.env.create(TENANT, ["sh", "-c", swapper])).metadata.id;
  await world.env.waitFor(TENANT, id, ["ready"]);
  let hostWrites = 0;
  const writer = setInterval(() => writeFileSync(join(world.hostDir, `host-evt-${hostWrites++ % 20}`), "x"), 20);
  const leaks: string[] = [];
  let tally: RaceTally<number>;
  try {
    tally = await raceTally(OPENS, CONCURRENCY, async (i) => {
      const path = i % 2 === 0 ? "/w/d" : "/w";
      const w = await readNdjson(`${world.env.srv.url}/api/tenants/${TENANT}/sandboxes/${id}/files/watch?path=${path}&recursive=true`, world.env.srv.token());
      if (w.status === 200) await new Promise((r) => setTimeout(r, 400));
      w.close();
      for (const l of w.lines) if (String(l.path ?? "").includes("host-evt")) leaks.push(`${path}: ${JSON.stringify(l)}`);
      if (w.status >= 500) leaks.push(`${path}: status ${w.status}`);
      return w.status;
    });
  } finally {
    clearInterval(writer);
  }
  await world.env.remove(TENANT, id);
  const { counts: statuses, summary } = tally;
  t.diagnostic(`statuses ${summary}, host writes ${hostWrites}`);
  assert.deepEqual(leaks.slice(0, 5), [], `watches reported host files or failed (statuses ${summary})`);
  assert.ok((statuses.get(200) ?? 0) > 0, `no watch opened (${summary})`);
});
