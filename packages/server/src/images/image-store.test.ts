import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore } from "./image-store.js";
import { isImageError } from "./errors.js";
import type { PullProgress } from "./types.js";
import { startRegistry, type TestRegistry } from "../testing/registry.js";
import { buildBusyboxImage, buildBusyboxPlusImage, buildWhiteoutImage, fixtureRootfs, pushFixture } from "../testing/fixtures.js";
import { describeTree, diffTrees } from "../testing/tree.js";

let registry: TestRegistry;
let busybox: string;
const roots: string[] = [];

function newStore(extra: Partial<ConstructorParameters<typeof ImageStore>[0]> = {}): ImageStore {
  const root = mkdtempSync(join(tmpdir(), "nimbus-images-"));
  roots.push(root);
  return new ImageStore({ registryAllowPrivate: true, root, dockerConfigPath: join(root, "no-config.json"), ...extra });
}

before(async () => {
  busybox = await buildBusyboxImage();
  registry = await startRegistry();
  pushFixture(registry.backendHost, busybox, "busybox", "v1", { format: "v2s2" });
  pushFixture(registry.backendHost, busybox, "busybox", "v2", { format: "v2s2" });
  pushFixture(registry.backendHost, busybox, "library/busybox", "v1");
  pushFixture(registry.backendHost, await buildBusyboxPlusImage(), "busybox-plus", "v1");
  pushFixture(registry.backendHost, await buildWhiteoutImage(), "whiteout", "v1");
});

after(async () => {
  await registry?.stop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

test("pull by tag: manifest list resolved to this arch, root equals the source tree", async () => {
  const store = newStore();
  await store.init();
  const events: PullProgress[] = [];
  const img = await store.pull(`${registry.host}/busybox:v1`, { onProgress: (p) => events.push(p) });
  assert.equal(img.reference, `${registry.host}/busybox:v1`);
  assert.equal(img.layers.length, 1);
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
  assert.deepEqual(img.config.cmd, ["sh"]);
  assert.deepEqual(img.config.exposedPorts, ["8080/tcp"]);
  assert.equal(img.config.labels["org.nimbus.fixture"], "busybox");
  assert.equal(img.config.workingDir, "/");
  assert.deepEqual(
    events.map((e) => e.kind).filter((k, i, a) => a.indexOf(k) === i),
    ["resolved", "layer", "done"],
  );
  assert.ok(events.some((e) => e.kind === "layer" && e.done && !e.cached && e.receivedBytes === e.totalBytes));
  assert.equal(store.resolveLocal("127.0.0.1:" + registry.host.split(":")[1] + "/busybox:v1")?.digest, img.digest);
  assert.equal(store.resolveLocal(img.digest)?.reference, img.reference);
  assert.deepEqual(
    store.list().map((r) => r.reference),
    [img.reference],
  );
});

test("pull by digest, and by arch override selects the other platform", async () => {
  const first = newStore();
  await first.init();
  const byTag = await first.pull(`${registry.host}/busybox:v1`);
  const store = newStore();
  await store.init();
  const img = await store.pull(`${registry.host}/busybox@${byTag.digest}`);
  assert.equal(img.digest, byTag.digest);
  assert.equal(img.reference, `${registry.host}/busybox@${byTag.digest}`);
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
  const other = newStore({ arch: process.arch === "arm64" ? "amd64" : "arm64" });
  await other.init();
  const decoy = await other.pull(`${registry.host}/busybox:v1`);
  assert.ok(existsSync(join(decoy.layers[0]!.dir, "WRONG-ARCH")));
});

test("whiteout image: a real overlayfs mount hides the deleted file and the opaque dir's lower contents", async (t) => {
  const store = newStore();
  await store.init();
  const img = await store.pull(`${registry.host}/whiteout:v1`);
  assert.equal(img.layers.length, 2);
  const base = mkdtempSync(join(tmpdir(), "nimbus-ovl-"));
  const [upper, work, merged] = ["upper", "work", "merged"].map((d) => join(base, d));
  for (const d of [upper!, work!, merged!]) mkdirSync(d);
  const lowers = img.layers
    .map((l) => l.dir)
    .reverse()
    .join(":");
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lowers},upperdir=${upper},workdir=${work}`, merged!]);
  t.after(() => {
    execFileSync("umount", [merged!]);
    rmSync(base, { recursive: true, force: true });
  });
  assert.equal(readFileSync(join(merged!, "etc/keep"), "utf8"), "kept\n");
  assert.equal(existsSync(join(merged!, "etc/gone")), false);
  assert.deepEqual(readdirSync(join(merged!, "data")), ["upper"]);
  assert.ok(existsSync(join(img.layers[0]!.dir, "etc/gone")), "the lower layer itself is untouched");
});

test("docker.io references resolve through a mirror to the loopback registry", async () => {
  const store = newStore({ mirrors: { "docker.io": [registry.url] } });
  await store.init();
  const seen = registry.requests.length;
  const img = await store.pull("busybox:v1");
  assert.equal(img.reference, "docker.io/library/busybox:v1");
  assert.ok(registry.requests.slice(seen).includes("GET /v2/library/busybox/manifests/v1"));
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
});

test("warm pull of a present image answers from the local index in under 20 ms", async () => {
  const store = newStore();
  await store.init();
  const first = await store.pull(`${registry.host}/busybox:v1`);
  const seen = registry.requests.length;
  const t0 = performance.now();
  const again = await store.pull(`${registry.host}/busybox:v1`);
  const ms = performance.now() - t0;
  assert.equal(again.digest, first.digest);
  assert.ok(ms < 20, `warm pull took ${ms} ms`);
  assert.equal(registry.requests.length, seen, "no registry traffic");
  const reopened = new ImageStore({ registryAllowPrivate: true, root: roots[roots.length - 1]! });
  await reopened.init();
  const t1 = performance.now();
  await reopened.pull(`${registry.host}/busybox:v1`);
  assert.ok(performance.now() - t1 < 20, "after a restart too");
});

test("ten concurrent pulls download each blob once", async () => {
  const store = newStore();
  await store.init();
  const seen = registry.requests.length;
  const refs = Array.from({ length: 10 }, (_, i) => `${registry.host}/busybox:v${(i % 2) + 1}`);
  const images = await Promise.all(refs.map((r) => store.pull(r, { policy: "always" })));
  assert.equal(new Set(images.map((i) => i.digest)).size, 1);
  const blobGets = registry.requests.slice(seen).filter((r) => r.startsWith("GET /v2/busybox/blobs/"));
  const counts = new Map<string, number>();
  for (const b of blobGets) counts.set(b, (counts.get(b) ?? 0) + 1);
  assert.equal(counts.size, 2, "config and one layer");
  for (const [blob, n] of counts) assert.equal(n, 1, `${blob} fetched ${n} times`);
});

test("an interrupted pull is cleaned at init and a new pull succeeds", async () => {
  const store = newStore();
  const root = roots[roots.length - 1]!;
  await store.init();
  // What a killed process leaves: a partial blob and a half-unpacked layer in tmp/.
  writeFileSync(join(root, "tmp", "blob-0123456789ab-deadbeef0001"), "partial");
  mkdirSync(join(root, "tmp", "layer-0123456789ab-deadbeef0002", "bin"), { recursive: true });
  writeFileSync(join(root, "tmp", "layer-0123456789ab-deadbeef0002", "bin", "half"), "x");
  const restarted = new ImageStore({ registryAllowPrivate: true, root });
  await restarted.init();
  assert.deepEqual(readdirSync(join(root, "tmp")), []);
  assert.deepEqual(readdirSync(join(root, "layers")), []);
  const img = await restarted.pull(`${registry.host}/busybox:v1`);
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
});

test("a cancelled pull leaves nothing behind and reports aborted", async () => {
  const store = newStore();
  const root = roots[roots.length - 1]!;
  await store.init();
  const ctrl = new AbortController();
  const p = store.pull(`${registry.host}/whiteout:v1`, {
    signal: ctrl.signal,
    onProgress: (e) => {
      if (e.kind === "resolved") ctrl.abort();
    },
  });
  await assert.rejects(p, (e: unknown) => isImageError(e, "aborted"));
  assert.deepEqual(readdirSync(join(root, "tmp")), []);
  assert.deepEqual(readdirSync(join(root, "layers")), []);
  assert.equal(store.list().length, 0);
});

test("remove and prune: unreferenced images go, a shared layer survives", async () => {
  const store = newStore();
  const root = roots[roots.length - 1]!;
  await store.init();
  const a = await store.pull(`${registry.host}/busybox:v1`);
  const b = await store.pull(`${registry.host}/busybox-plus:v1`);
  const c = await store.pull(`${registry.host}/whiteout:v1`);
  assert.equal(b.layers[0]!.diffId, a.layers[0]!.diffId, "fixture shares the bottom layer");
  await store.remove(`${registry.host}/busybox:v1`);
  assert.equal(store.resolveLocal(a.reference), undefined);
  assert.ok(existsSync(a.layers[0]!.dir), "remove keeps content until prune");
  await assert.rejects(store.remove(`${registry.host}/busybox:v1`), (e: unknown) => isImageError(e, "not_found"));
  const res = await store.prune(new Set([b.digest]));
  assert.deepEqual(res.removedImages, [c.reference]);
  assert.deepEqual(res.removedLayers.sort(), c.layers.map((l) => l.diffId).sort());
  assert.ok(res.freedBytes > 0);
  assert.ok(existsSync(b.layers[0]!.dir) && existsSync(b.layers[1]!.dir), "the shared layer survives");
  assert.deepEqual(
    store.list().map((r) => r.reference),
    [b.reference],
  );
  const blobs = readdirSync(join(root, "blobs", "sha256")).length;
  assert.equal(blobs, 2 + 2, "b's manifest, config and two layers");
  const all = await store.prune(new Set());
  assert.deepEqual(all.removedImages, [b.reference]);
  assert.deepEqual(readdirSync(join(root, "layers")), []);
  assert.deepEqual(readdirSync(join(root, "blobs", "sha256")), []);
});
