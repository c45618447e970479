/**
 * Issue 18 (Files): a directory as a tar stream, both ways, on real crun +
 * conmon through the SDK. Uploads land owned by the sandbox's user without
 * setuid bits, keep symlinks as links, refuse absolute and `..` names,
 * devices, FIFOs and hard links, never write through a symlink, and count
 * apparent sizes against the files limit; downloads archive symlinks as
 * links (never their targets), skip FIFOs and refuse an oversized (sparse)
 * tree before sending a byte.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { Nimbus, NimbusError, NimbusInvalidInputError } from "@nimbus/nimbus";
import { readTar } from "../images/tar-reader.js";
import { tarArchive, type TarWriteEntry } from "../images/tar-writer.js";
import type { SandboxEnv } from "../testing/sandbox-env.js";
import { shIn, startSleeperSandbox } from "../testing/sleeper-sandbox.js";

const TENANT = "archive";
const LIMIT_BYTES = 4 * 1024 * 1024;
let env: SandboxEnv;
let nimbus: Nimbus;
let id = "";

const sh = (script: string) => shIn(nimbus, id, script);

async function upload(path: string, entries: TarWriteEntry[]) {
  return nimbus.files.uploadArchive({ sandboxId: id, path, data: tarArchive(entries) });
}

async function entriesOf(stream: Readable): Promise<Array<{ path: string; type: string; mode: number; linkpath: string; data: string }>> {
  const out = [];
  for await (const e of readTar(stream)) {
    const chunks: Buffer[] = [];
    for await (const c of e.body()) chunks.push(c);
    out.push({ path: e.header.path, type: e.header.type, mode: e.header.mode, linkpath: e.header.linkpath, data: Buffer.concat(chunks).toString() });
  }
  return out;
}

before(async () => {
  ({ env, nimbus, id } = await startSleeperSandbox(TENANT, { flags: { filesMaxBytes: String(LIMIT_BYTES) }, user: "1000:1000" }));
});
after(async () => {
  await env?.close();
});

test("an uploaded archive lands owned by the sandbox's user, without setuid bits, symlinks kept as links", async () => {
  const r = await upload("/tmp/up/new", [
    { path: "./", type: "dir", mode: 0o755 },
    { path: "./bin/", type: "dir", mode: 0o700 },
    { path: "./bin/tool", type: "file", data: "#!/bin/sh\necho tool\n", mode: 0o4755, uid: 0 },
    { path: "./a/b/c.txt", type: "file", data: "deep\n", mode: 0o640 },
    { path: "./etc-link", type: "symlink", linkpath: "/etc" },
  ]);
  assert.deepEqual(r, { path: "/tmp/up/new", entries: 4, sizeBytes: 25 });
  assert.equal(
    await sh("cd /tmp/up/new && stat -c '%n %a %u %g' . bin bin/tool a a/b a/b/c.txt && readlink etc-link && cat a/b/c.txt"),
    ". 755 1000 1000\nbin 700 1000 1000\nbin/tool 755 1000 1000\na 755 1000 1000\na/b 755 1000 1000\na/b/c.txt 640 1000 1000\n/etc\ndeep\n",
  );
  assert.equal(await sh("stat -c '%u' /tmp/up"), "1000\n", "the target's missing parents are created like mkdir -p");
});

test("hostile archives are refused and write nothing through links or outside the target", async () => {
  await sh("mkdir -p /tmp/evil");
  const cases: Array<[string, TarWriteEntry[]]> = [
    ["absolute", [{ path: "/tmp/abs-escape", type: "file", data: "x", rawName: true }]],
    ["dotdot", [{ path: "../dotdot-escape", type: "file", data: "x" }]],
    ["device", [{ path: "null", type: "char", devmajor: 1, devminor: 3 }]],
    ["fifo", [{ path: "fifo", type: "fifo" }]],
    ["hardlink", [{ path: "hl", type: "hardlink", linkpath: "etc/passwd" }]],
    [
      "through a symlink",
      [
        { path: "via", type: "symlink", linkpath: "/tmp" },
        { path: "via/through-link", type: "file", data: "x" },
      ],
    ],
  ];
  for (const [what, entries] of cases) {
    const err = await upload("/tmp/evil", entries).catch((e) => e);
    assert.ok(err instanceof NimbusInvalidInputError, `${what}: ${String(err)}`);
  }
  assert.equal(await sh("ls /tmp/abs-escape /tmp/dotdot-escape /tmp/through-link /tmp/evil/null /tmp/evil/fifo /tmp/evil/hl 2>/dev/null | wc -l"), "0\n");
  const garbage = await nimbus.files.uploadArchive({ sandboxId: id, path: "/tmp/evil", data: Buffer.alloc(1024, 7) }).catch((e) => e);
  assert.ok(garbage instanceof NimbusInvalidInputError, String(garbage));
});

test("an archive over the files limit (apparent sizes) is refused with 413", async () => {
  const big = Buffer.alloc(LIMIT_BYTES / 2 + 1, 1);
  const err = await upload("/tmp/big", [
    { path: "one", type: "file", data: big },
    { path: "two", type: "file", data: big },
  ]).catch((e) => e);
  assert.ok(err instanceof NimbusError && err.code === "op.too_large", String(err));
  assert.equal(await sh("ls /tmp/big"), "one\n", "the entry that crossed the limit was not written");
});

test("a downloaded directory holds its files, dirs and symlinks (as links), skipping FIFOs", async () => {
  await sh("mkdir -p /tmp/down/sub && printf hello > /tmp/down/sub/f && chmod 4755 /tmp/down/sub/f && ln -s /etc /tmp/down/etc-link && mkfifo /tmp/down/fifo");
  const entries = await entriesOf(await nimbus.files.downloadArchive({ sandboxId: id, path: "/tmp/down" }));
  assert.deepEqual(
    entries.map((e) => [e.path, e.type]),
    [
      ["etc-link", "symlink"],
      ["sub/", "dir"],
      ["sub/f", "file"],
    ],
  );
  assert.equal(entries[0]!.linkpath, "/etc");
  assert.equal(entries[2]!.data, "hello");
  assert.equal(entries[2]!.mode, 0o755, "setuid is not carried out of the sandbox either");
  // Round trip: what was downloaded uploads back as the same tree.
  const again = await nimbus.files.uploadArchive({
    sandboxId: id,
    path: "/tmp/down-copy",
    data: await nimbus.files.downloadArchive({ sandboxId: id, path: "/tmp/down" }),
  });
  assert.equal(again.entries, 3);
  assert.equal(await sh("cat /tmp/down-copy/sub/f; readlink /tmp/down-copy/etc-link"), "hello/etc\n");
});

test("a directory with a sparse file over the limit is refused before a byte is sent", async () => {
  await sh("mkdir -p /tmp/sparse && truncate -s 1099511627776 /tmp/sparse/huge");
  const started = Date.now();
  const err = await nimbus.files.downloadArchive({ sandboxId: id, path: "/tmp/sparse" }).catch((e) => e);
  assert.ok(err instanceof NimbusError && err.code === "op.too_large", String(err));
  assert.ok(Date.now() - started < 5000);
  const notDir = await nimbus.files.downloadArchive({ sandboxId: id, path: "/tmp/sparse/huge" }).catch((e) => e);
  assert.ok(notDir instanceof Error);
});
