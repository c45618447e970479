// runtime/container/overlay.test.ts — layer order, escaping, and real mounts with one
// layer and with more layers than fit in one page of mount options.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { mountOverlay, mountPointsUnder, overlayOptions, unmountOverlay } from "./overlay.js";

test("lowerdir lists the top-most layer first and escapes separators", () => {
  assert.equal(overlayOptions(["/l/base", "/l/mid", "/l/a:b,c"], "/u", "/w"), "lowerdir=/l/a\\:b\\,c:/l/mid:/l/base,upperdir=/u,workdir=/w");
});

const root = mkdtempSync(join(tmpdir(), "nimbus-overlay-"));
after(() => rmSync(root, { recursive: true, force: true }));
const asRoot = { skip: process.getuid?.() !== 0 && "needs root" };

function layer(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

async function mounted(name: string, lowers: string[], check: (target: string) => void): Promise<void> {
  const base = join(root, name);
  const paths = { target: join(base, "rootfs"), upperDir: join(base, "upper"), workDir: join(base, "work"), linkDir: join(base, "l") };
  await mountOverlay(lowers, paths);
  try {
    check(paths.target);
  } finally {
    await unmountOverlay(paths.target);
  }
  assert.deepEqual(mountPointsUnder(base), []);
}

test("a single lower layer mounts, writes go to the upper dir", asRoot, async () => {
  const only = layer("single", { "a.txt": "a" });
  await mounted("m-single", [only], (t) => {
    assert.equal(readFileSync(join(t, "a.txt"), "utf8"), "a");
    writeFileSync(join(t, "new.txt"), "n");
  });
  assert.equal(readFileSync(join(root, "m-single/upper/new.txt"), "utf8"), "n");
  assert.throws(() => readFileSync(join(only, "new.txt")), "the layer is untouched");
});

test("no layers at all still mounts (an empty lower is supplied)", asRoot, async () => {
  await mounted("m-empty", [], (t) => writeFileSync(join(t, "x"), "x"));
});

test("many layers with long paths mount through short links; the top layer wins", asRoot, async () => {
  const deep = "d".repeat(120);
  const lowers = Array.from({ length: 60 }, (_, i) => layer(`${deep}/layer-${i}`, { [`f${i}`]: String(i), "same.txt": String(i) }));
  assert.ok(overlayOptions(lowers, "/u", "/w").length > 4096, "the plain option string would not fit");
  await mounted("m-many", lowers, (t) => {
    assert.equal(readFileSync(join(t, "f0"), "utf8"), "0");
    assert.equal(readFileSync(join(t, "f59"), "utf8"), "59");
    assert.equal(readFileSync(join(t, "same.txt"), "utf8"), "59");
  });
});

test("unmounting something not mounted is fine", async () => {
  await unmountOverlay(join(root, "never-mounted"));
});
