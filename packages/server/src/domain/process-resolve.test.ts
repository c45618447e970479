import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandEnv, resolveArgs, resolveProcess, mergeEnv } from "./process-resolve.js";

const image = { entrypoint: ["/entry"], cmd: ["serve", "--port", "80"], env: ["PATH=/bin", "A=1"], workingDir: "/app", user: "" };

test("argv (or args) replaces ENTRYPOINT and CMD", () => {
  assert.deepEqual(resolveArgs(image, { argv: ["node", "-v"] }), ["node", "-v"]);
  assert.deepEqual(resolveArgs(image, { args: ["sh"] }), ["sh"]);
});

test("entrypoint drops the image CMD; command replaces only CMD", () => {
  assert.deepEqual(resolveArgs(image, { entrypoint: ["/bin/sh"] }), ["/bin/sh"]);
  assert.deepEqual(resolveArgs(image, { entrypoint: ["/bin/sh"], command: ["-c", "x"] }), ["/bin/sh", "-c", "x"]);
  assert.deepEqual(resolveArgs(image, { command: ["run"] }), ["/entry", "run"]);
  assert.deepEqual(resolveArgs(image, {}), ["/entry", "serve", "--port", "80"]);
});

test("env merges over the image env by name; cwd defaults to WorkingDir", () => {
  assert.deepEqual(mergeEnv(["A=1", "B=2"], ["A=3", "C=4"]), ["A=3", "B=2", "C=4"]);
  const p = resolveProcess(image, { env: ["A=2"] }, []);
  assert.deepEqual(p.env, ["PATH=/bin", "A=2"]);
  assert.equal(p.cwd, "/app");
  assert.deepEqual(p.user, { uid: 0, gid: 0 });
});

test("an image with no command and no argv is a clear 400", () => {
  assert.throws(() => resolveProcess({ ...image, entrypoint: null, cmd: null }, {}, []), /set spec.process.argv/);
});

test("user names resolve through the image's own passwd and group files", () => {
  const lower = mkdtempSync(join(tmpdir(), "nimbus-layer-"));
  const upper = mkdtempSync(join(tmpdir(), "nimbus-layer-"));
  try {
    mkdirSync(join(lower, "etc"));
    mkdirSync(join(upper, "etc"));
    writeFileSync(join(lower, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nnode:x:999:999::/home:/bin/sh\n");
    writeFileSync(join(upper, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n");
    writeFileSync(join(upper, "etc/group"), "root:x:0:\nstaff:x:50:\n");
    assert.deepEqual(resolveProcess(image, { user: "node" }, [lower, upper]).user, { uid: 1000, gid: 1000 });
    assert.deepEqual(resolveProcess(image, { user: "node:staff" }, [lower, upper]).user, { uid: 1000, gid: 50 });
    assert.deepEqual(resolveProcess(image, { user: "1000" }, [lower, upper]).user, { uid: 1000, gid: 1000 });
    assert.deepEqual(resolveProcess(image, { user: "5:6" }, [lower, upper]).user, { uid: 5, gid: 6 });
    assert.throws(() => resolveProcess(image, { user: "nobody" }, [lower, upper]), /does not exist in the image/);
  } finally {
    rmSync(lower, { recursive: true });
    rmSync(upper, { recursive: true });
  }
});

test("a command's environment: defaults, then the sandbox's, then the caller's", () => {
  assert.deepEqual(commandEnv(["PATH=/bin", "HOME=/root"], ["PATH=/usr/bin:/bin", "LANG=C"], ["LANG=C.UTF-8", "X=1"]), [
    "PATH=/usr/bin:/bin",
    "HOME=/root",
    "LANG=C.UTF-8",
    "X=1",
  ]);
  assert.deepEqual(commandEnv(["PATH=/bin"], undefined, []), ["PATH=/bin"]);
});
