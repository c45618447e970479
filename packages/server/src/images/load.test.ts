import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore } from "./image-store.js";
import { isImageError } from "./errors.js";
import { tarArchive } from "./tar-writer.js";
import { archiveFixture, buildBusyboxImage, fixtureRootfs } from "../testing/fixtures.js";
import { describeTree, diffTrees } from "../testing/tree.js";

let busybox: string;
let dir: string;

before(async () => {
  busybox = await buildBusyboxImage();
  dir = mkdtempSync(join(tmpdir(), "nimbus-load-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function freshStore(): Promise<{ store: ImageStore; root: string }> {
  const root = mkdtempSync(join(dir, "store-"));
  const store = new ImageStore({ root });
  await store.init();
  return { store, root };
}

test("load: an OCI-layout tarball (skopeo oci-archive)", async () => {
  const file = join(dir, "bb-oci.tar");
  archiveFixture(busybox, "oci-archive", file, "example.com/tools/busybox:1.0");
  const { store, root } = await freshStore();
  const [img, ...rest] = await store.load(file);
  assert.equal(rest.length, 0);
  assert.equal(img!.reference, "example.com/tools/busybox:1.0");
  assert.deepEqual(img!.config.cmd, ["sh"]);
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img!.layers[0]!.dir)), []);
  assert.equal(store.resolveLocal("example.com/tools/busybox:1.0")?.digest, img!.digest);
  assert.deepEqual(readdirSync(join(root, "tmp")), [], "the extracted archive is removed");
});

test("load: a docker-archive tarball (docker save format)", async () => {
  const file = join(dir, "bb-docker.tar");
  archiveFixture(busybox, "docker-archive", file, "tools/busybox:2");
  const { store, root } = await freshStore();
  const images = await store.load(file);
  assert.deepEqual(
    images.map((i) => i.reference),
    ["docker.io/tools/busybox:2"],
  );
  const img = images[0]!;
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
  assert.deepEqual(img.config.exposedPorts, ["8080/tcp"]);
  assert.deepEqual(readdirSync(join(root, "tmp")), []);
  // The stored manifest is synthesised; the image survives a restart and prunes cleanly.
  const again = new ImageStore({ root });
  await again.init();
  assert.equal(again.resolveLocal("tools/busybox:2")?.digest, img.digest);
  await again.prune(new Set());
  assert.deepEqual(readdirSync(join(root, "blobs", "sha256")), []);
});

test("load: an archive whose manifest.json points outside via a symlink is refused", async () => {
  const file = join(dir, "evil.tar");
  writeFileSync(
    file,
    tarArchive([
      { path: "manifest.json", type: "file", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["x:1"], Layers: ["l.tar"] }]) },
      { path: "cfg.json", type: "symlink", linkpath: "/etc/passwd" },
      { path: "l.tar", type: "file", data: "" },
    ]),
  );
  const { store } = await freshStore();
  await assert.rejects(store.load(file), (e: unknown) => isImageError(e, "invalid_archive") && /outside/.test(e.message));
  await assert.rejects(store.load(join(dir, "missing.tar")), (e: unknown) => isImageError(e, "invalid_archive"));
});
