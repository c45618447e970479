import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { unpackLayer } from "./unpack.js";
import { tarArchive } from "./tar-writer.js";
import { isImageError } from "./errors.js";
import { evilLayers } from "../testing/evil-layers.js";

async function* chunks(buf: Buffer, size = 777): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

function sandbox(): { base: string; dest: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), "nimbus-unpack-"));
  const dest = join(base, "layer");
  const outside = join(base, "outside");
  mkdirSync(dest);
  mkdirSync(outside);
  writeFileSync(join(outside, "keep"), "original");
  return { base, dest, outside };
}

test("unpack: files, dirs, symlinks, hard links, owners, modes and mtimes are kept", async (t) => {
  const { base, dest } = sandbox();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const long = "d/" + "x".repeat(120) + "/file";
  const tar = tarArchive([
    { path: "./d/", type: "dir", mode: 0o750, uid: 1000, gid: 1001, mtime: 1_000_000 },
    { path: "d/suid", type: "file", data: "#!/bin/sh\n", mode: 0o4755, uid: 0, gid: 0, mtime: 1_234_567 },
    { path: "d/owned", type: "file", data: "x", mode: 0o600, uid: 4242, gid: 2424, mtime: 5 },
    { path: "d/link", type: "symlink", linkpath: "../etc/passwd", uid: 7, gid: 8, mtime: 9 },
    { path: "d/hard", type: "hardlink", linkpath: "d/suid" },
    { path: long, type: "file", data: "long", mode: 0o644 },
    { path: "dev/null", type: "char", devmajor: 1, devminor: 3 },
    { path: "big", type: "file", data: Buffer.alloc(300_000, 7), mode: 0o644, uid: 2 ** 22, gid: 3 },
  ]);
  const res = await unpackLayer(chunks(gzipSync(tar)), dest);
  assert.match(res.diffId, /^sha256:[0-9a-f]{64}$/);
  const suid = lstatSync(join(dest, "d/suid"));
  assert.equal(suid.mode & 0o7777, 0o4755);
  assert.equal(suid.mtimeMs, 1_234_567_000);
  assert.equal(lstatSync(join(dest, "d/hard")).ino, suid.ino);
  const owned = lstatSync(join(dest, "d/owned"));
  assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o777], [4242, 2424, 0o600]);
  assert.equal(readlinkSync(join(dest, "d/link")), "../etc/passwd");
  assert.equal(lstatSync(join(dest, "d/link")).uid, 7);
  const d = lstatSync(join(dest, "d"));
  assert.deepEqual([d.mode & 0o7777, d.uid, d.gid, d.mtimeMs], [0o750, 1000, 1001, 1_000_000_000]);
  assert.equal(readFileSync(join(dest, long), "utf8"), "long");
  assert.equal(existsSync(join(dest, "dev/null")), false, "device nodes are skipped");
  assert.equal(lstatSync(join(dest, "big")).size, 300_000);
  assert.equal(lstatSync(join(dest, "big")).uid, 2 ** 22);
});

test("unpack: OCI whiteouts become overlayfs whiteouts and opaque xattrs", async (t) => {
  const { base, dest } = sandbox();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const tar = tarArchive([
    { path: "etc/", type: "dir", mode: 0o755 },
    { path: "etc/.wh.gone", type: "file" },
    { path: "opq/", type: "dir", mode: 0o711, mtime: 77 },
    { path: "opq/.wh..wh..opq", type: "file" },
    { path: "opq/new", type: "file", data: "n" },
  ]);
  await unpackLayer(chunks(tar), dest);
  const wh = lstatSync(join(dest, "etc/gone"));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(existsSync(join(dest, "etc/.wh.gone")), false);
  const xattr = execFileSync("python3", ["-c", `import os,sys;print(os.getxattr(sys.argv[1],"trusted.overlay.opaque").decode())`, join(dest, "opq")]);
  assert.equal(xattr.toString().trim(), "y");
  const opq = lstatSync(join(dest, "opq"));
  assert.deepEqual([opq.mode & 0o7777, opq.mtimeMs], [0o711, 77_000]);
});

for (const [name, layer] of Object.entries(evilLayers())) {
  test(`unpack: refuses the evil layer "${name}" and touches nothing outside`, async (t) => {
    const { base, dest, outside } = sandbox();
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const evil = layer(outside);
    await assert.rejects(unpackLayer(chunks(evil), dest), (e: unknown) => isImageError(e, "unsafe_layer"));
    assert.equal(readFileSync(join(outside, "keep"), "utf8"), "original");
    assert.deepEqual(execFileSync("ls", ["-A", outside]).toString().trim().split("\n"), ["keep"]);
    assert.equal(existsSync(join(base, "pwned")), false);
  });
}

test("unpack: a non-tar stream is refused", async (t) => {
  const { base, dest } = sandbox();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  await assert.rejects(unpackLayer(chunks(Buffer.alloc(2048, 65)), dest), (e: unknown) => isImageError(e, "unsafe_layer"));
});
