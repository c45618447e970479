import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTar, type TarHeader } from "./tar-reader.js";
import { tarArchive } from "./tar-writer.js";

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += 1000) yield buf.subarray(i, i + 1000);
}

/** Reads headers; bodies only where `read` says so (the reader skips the rest). */
async function headers(buf: Buffer, read: (path: string) => boolean = () => true): Promise<Array<TarHeader & { text: string }>> {
  const out: Array<TarHeader & { text: string }> = [];
  for await (const e of readTar(once(buf))) {
    const parts: Buffer[] = [];
    if (read(e.header.path)) for await (const c of e.body()) parts.push(c);
    out.push({ ...e.header, text: Buffer.concat(parts).toString() });
  }
  return out;
}

for (const format of ["gnu", "posix", "ustar"] as const) {
  test(`tar reader: GNU tar --format=${format} long names, long link targets and bodies`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "nimbus-tar-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const longDir = `${"a".repeat(80)}/${"b".repeat(60)}`;
    mkdirSync(join(dir, "root", longDir), { recursive: true });
    writeFileSync(join(dir, "root", longDir, "f.txt"), "hello");
    writeFileSync(join(dir, "root", "z.txt"), "x".repeat(5000));
    symlinkSync(format === "ustar" ? "short-target" : "t".repeat(150), join(dir, "root", "link"));
    const tar = execFileSync("tar", [`--format=${format}`, "--sort=name", "-C", join(dir, "root"), "-cf", "-", "."]);
    const hs = await headers(tar, (p) => p.endsWith("f.txt"));
    const byPath = new Map(hs.map((h) => [h.path.replace(/^\.\//, ""), h]));
    assert.equal(byPath.get(`${longDir}/f.txt`)?.size, 5);
    assert.equal(byPath.get("link")?.type, "symlink");
    assert.equal(byPath.get("link")?.linkpath, format === "ustar" ? "short-target" : "t".repeat(150));
    assert.equal(byPath.get("z.txt")?.size, 5000);
    assert.equal(byPath.get(`${longDir}/f.txt`)?.text, "hello");
    assert.equal(byPath.get("z.txt")?.text, "", "skipped body");
  });
}

test("tar reader: pax records override header fields, xattrs are collected, base-256 ids decode", async () => {
  const buf = tarArchive([
    { path: "p/" + "q".repeat(150), type: "file", data: "pax", uid: 3_000_000, gid: 7, mtime: 12.5, xattrs: { "security.capability": "cap" } },
  ]);
  const [h] = await headers(buf);
  assert.equal(h!.path, "p/" + "q".repeat(150));
  assert.equal(h!.uid, 3_000_000);
  assert.equal(h!.mtime, 12.5);
  assert.deepEqual(h!.xattrs, { "security.capability": "cap" });
  assert.equal(h!.text, "pax");
  const b256 = Buffer.from(tarArchive([{ path: "x", type: "file", data: "" }]));
  b256.fill(0, 108, 116);
  b256[108] = 0x80;
  b256.writeUInt32BE(0x01020304, 112);
  let sum = 0;
  b256.fill(0x20, 148, 156);
  for (let i = 0; i < 512; i++) sum += b256[i]!;
  b256.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  const [h2] = await headers(b256);
  assert.equal(h2!.uid, 0x01020304);
});

test("tar reader: a truncated archive or a bad checksum is rejected", async () => {
  const buf = tarArchive([{ path: "a", type: "file", data: "x".repeat(2000) }]);
  await assert.rejects(headers(buf.subarray(0, 1024)), /not a valid tar archive/);
  const bad = Buffer.from(buf);
  bad[0] = 0x42;
  await assert.rejects(headers(bad), /checksum/);
});
