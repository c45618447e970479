#!/usr/bin/env node
// bench/pull — cold pull + unpack of the debian-minbase fixture with Nimbus's
// ImageStore next to `skopeo copy` + `umoci unpack` of the same image from the
// same loopback registry, in one run, plus the warm "pull" of a present image.
// Uses packages/server/dist when built (`npx tsc -p packages/server`), else the
// TypeScript sources through tsx. Cleans up everything it creates.
// Usage: node bench/pull/run.mjs [--rounds N]
import { mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServer } from "../lib/load-server.mjs";

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 3;

const { ImageStore } = await loadServer("images/index");
const { startRegistry } = await loadServer("testing/registry");
const { buildDebianImage, pushFixture } = await loadServer("testing/fixtures");

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), "nimbus-bench-pull-"));
let registry;
try {
  let t = performance.now();
  const layout = await buildDebianImage();
  console.log(`fixture debian-minbase ready in ${((performance.now() - t) / 1000).toFixed(1)} s (cached after the first build)`);
  registry = await startRegistry();
  const host = registry.backendHost;
  pushFixture(host, layout, "debian", "bench");
  const ref = `${host}/debian:bench`;

  const ours = [];
  const theirs = [];
  // Each timed step starts after `sync`, so one tool's dirty pages are not billed to the other;
  // the order alternates between rounds.
  const nimbusRound = async (i) => {
    const root = join(work, `nimbus-${i}`);
    run("sync", []);
    const t0 = performance.now();
    const store = new ImageStore({ root, registryAllowPrivate: true });
    await store.init();
    await store.pull(ref);
    ours.push(performance.now() - t0);
    rmSync(root, { recursive: true, force: true });
  };
  const toolsRound = (i) => {
    const oci = join(work, `oci-${i}`);
    const bundle = join(work, `bundle-${i}`);
    run("sync", []);
    const t0 = performance.now();
    run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${oci}:bench`]);
    run("umoci", ["unpack", "--image", `${oci}:bench`, bundle]);
    theirs.push(performance.now() - t0);
    rmSync(oci, { recursive: true, force: true });
    rmSync(bundle, { recursive: true, force: true });
  };
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      await nimbusRound(i);
      toolsRound(i);
    } else {
      toolsRound(i);
      await nimbusRound(i);
    }
  }

  const root = join(work, "warm");
  const store = new ImageStore({ root, registryAllowPrivate: true });
  await store.init();
  await store.pull(ref);
  const warm = [];
  for (let i = 0; i < 50; i++) {
    t = performance.now();
    await store.pull(ref);
    warm.push(performance.now() - t);
  }
  const restarted = new ImageStore({ root, registryAllowPrivate: true });
  t = performance.now();
  await restarted.init();
  await restarted.pull(ref);
  const afterRestart = performance.now() - t;

  const a = median(ours);
  const b = median(theirs);
  console.log(`rounds: ${rounds} (medians; each round pulls into empty dirs)`);
  console.log(`nimbus ImageStore cold pull+unpack:   ${a.toFixed(0)} ms   [${ours.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`skopeo copy + umoci unpack:           ${b.toFixed(0)} ms   [${theirs.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`ratio nimbus / (skopeo+umoci):        ${(a / b).toFixed(2)}   (goal <= 1.00)`);
  console.log(`warm pull of a present image:         ${median(warm).toFixed(3)} ms median, ${Math.max(...warm).toFixed(3)} ms max (goal < 20 ms)`);
  console.log(`init + warm pull after a restart:     ${afterRestart.toFixed(1)} ms`);
} finally {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
}
