/**
 * Acceptance (Sessions #4, CLI): `nimbus exec` passes the command's exit code
 * and output through and names a missing binary clearly; `nimbus cp` copies
 * both ways with either side `SANDBOX:/path`. Drives the built binary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useCliWorld } from "../testing/cli-world.js";

let id = "";
const world = useCliWorld("cli-exec", async (started) => {
  id = await started.createReady(["sleep", "100000"]);
});

test("nimbus exec passes the exit code and both output streams through", async () => {
  const r = await world.nimbus("exec", id, "--", "sh", "-c", "echo out; echo err >&2; exit 3");
  assert.equal(r.code, 3);
  assert.equal(r.stdout, "out\n");
  assert.equal(r.stderr, "err\n");
  const ok = await world.nimbus("exec", id, "-e", "X=1", "-w", "/tmp", "--", "sh", "-c", "echo $X $(pwd)");
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, "1 /tmp\n");
});

test("nimbus exec of a missing binary is a clear error and a non-zero exit", async () => {
  const r = await world.nimbus("exec", id, "--", "definitely-not-installed");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /could not start `definitely-not-installed`/);
});

test("nimbus exec without a command is a usage error", async () => {
  const r = await world.nimbus("exec", id);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give the command after the sandbox id/);
});

test("nimbus exec ID CMD… takes the command's own flags without `--`", async () => {
  const r = await world.nimbus("exec", "-e", "Y=2", id, "sh", "-c", "echo y=$Y; exit 5");
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, "y=2\n");
});

test("nimbus cp copies a file in and back out", async () => {
  const local = join(world.env.HOME!, "..", "in.txt");
  writeFileSync(local, "payload\n".repeat(1000));
  const up = await world.nimbus("cp", local, `${id}:/tmp/in.txt`);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /copied 8000 bytes .* \(sha256 [0-9a-f]{64}\)/);
  const inside = await world.nimbus("exec", id, "--", "wc", "-c", "/tmp/in.txt");
  assert.match(inside.stdout, /8000/);
  const back = join(world.env.HOME!, "..", "out.txt");
  const down = await world.nimbus("cp", `${id}:/tmp/in.txt`, back);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(readFileSync(back, "utf8"), readFileSync(local, "utf8"));
  const both = await world.nimbus("cp", `${id}:/a`, `${id}:/b`);
  assert.equal(both.code, 2);
});

test("nimbus cp -r copies a directory's contents in and back out, symlinks kept as links", async () => {
  const local = join(world.env.HOME!, "..", "tree-in");
  mkdirSync(join(local, "sub", "deeper"), { recursive: true });
  writeFileSync(join(local, "top.txt"), "top\n");
  writeFileSync(join(local, "sub", "deeper", "leaf.txt"), "leaf\n");
  symlinkSync("sub/deeper/leaf.txt", join(local, "link"));
  const up = await world.nimbus("cp", "-r", local, `${id}:/tmp/tree`);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /copied \d+ entries \(9 bytes\) to /);
  const inside = await world.nimbus("exec", id, "--", "sh", "-c", "cat /tmp/tree/top.txt /tmp/tree/link; readlink /tmp/tree/link");
  assert.equal(inside.stdout, "top\nleaf\nsub/deeper/leaf.txt\n");
  const back = join(world.env.HOME!, "..", "tree-out");
  const down = await world.nimbus("cp", "-r", `${id}:/tmp/tree`, back);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(readFileSync(join(back, "sub", "deeper", "leaf.txt"), "utf8"), "leaf\n");
  assert.equal(readlinkSync(join(back, "link")), "sub/deeper/leaf.txt");
  const notDir = await world.nimbus("cp", "-r", join(local, "top.txt"), `${id}:/tmp/x`);
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, /is not a directory/);
  const missing = await world.nimbus("cp", "-r", `${id}:/tmp/none`, back);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /does not exist/);
});
