// execInContainer's process file: written before the call returns (no
// thread-pool round trips between an exec request and the runtime's spawn;
// bench/processes measured them as a fifth of the exec overhead), 0600 and
// fresh (a file placed there first is refused), gone once the exec ends. The
// "runtime" here is /bin/true: these are the file's rules, not crun's.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { execInContainer } from "./exec-in-container.js";

const spec = { args: ["/bin/sh", "-c", "true"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } };

function files() {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-exec-file-"));
  return { dir, pidFile: join(dir, "e.pid"), processFile: join(dir, "e.json") };
}

test("the process file is in place, 0600, when execInContainer returns, and removed when the exec ends", async () => {
  const { dir, ...f } = files();
  try {
    const h = execInContainer("/bin/true", [], "sb-1", spec, f);
    assert.ok(existsSync(f.processFile), "the process file is written before the call returns");
    assert.equal(statSync(f.processFile).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(f.processFile, "utf8")).args, spec.args);
    assert.equal(await h.exited, 0);
    assert.ok(!existsSync(f.processFile));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a process file someone placed first is not used: the exec fails without running the runtime", async () => {
  const { dir, ...f } = files();
  try {
    writeFileSync(f.processFile, JSON.stringify({ args: ["/bin/evil"] }));
    const h = execInContainer("/bin/true", [], "sb-1", spec, f);
    assert.equal(await h.exited, 127);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
