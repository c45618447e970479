/**
 * Attack test for issue 15 finding 12, the lost-output part: a tenant (or a
 * runaway neighbour) fills the disk under the data dir. conmon can no longer
 * write the sandbox's output to its log and drops it with a warning of its
 * own, so a session reader used to see the stream simply go on later, with
 * the output in between missing and nothing said. Now the reader gets a `gap`
 * frame with reason `disk_full` at the offset from which output may be
 * missing, and the stream goes on once there is room again.
 * The data dir is a 96 MiB tmpfs this test mounts (and removes), filled from
 * the host side. On the old code no gap frame comes.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { assertNoLeftovers } from "../runtime/leak-check.js";
import { purgeRuntime } from "../testing/purge.js";

const T = "chatty";
let mnt: string;
let env: SandboxEnv | undefined;

before(async () => {
  mnt = mkdtempSync(join(tmpdir(), "nimbus-disk-full-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=96m,mode=0700", "tmpfs", mnt]);
  env = await startSandboxEnv({ flags: { dataDir: join(mnt, "data"), diskFreeMinBytes: "0" } });
  await env.tenant(T);
});
after(async () => {
  const runtimeDir = join(mnt, "data", "runtime");
  try {
    await env?.close();
    await assertNoLeftovers(runtimeDir);
  } finally {
    await purgeRuntime(runtimeDir);
    execFileSync("umount", [mnt]);
    rmdirSync(mnt);
  }
});

/** Writes zeros to `path` until the filesystem refuses (ENOSPC). */
function fill(path: string): void {
  const fd = openSync(path, "w");
  try {
    for (const size of [1024 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

test("finding 12: with the disk full, a session reader gets a gap frame with reason disk_full, then the output goes on", { timeout: 60_000 }, async () => {
  const e = env!;
  const id = (await e.create(T, ["sh", "-c", 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.05; done'])).metadata.id;
  await e.waitFor(T, id, ["ready"]);
  const session = await e.srv.request("POST", "/api/sessions", { body: { tenantId: T, target: { sandbox: { id } }, channels: ["stdio"] } });
  assert.equal(session.status, 201, JSON.stringify(session.body));
  const abort = new AbortController();
  const frames: any[] = [];
  const res = await fetch(`${e.srv.url}/api/sessions/${session.body.metadata.id}/channels/stdio/stream?tenantId=${T}`, {
    headers: { authorization: `Bearer ${e.srv.token()}` },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const reading = (async () => {
    let rest = "";
    for await (const chunk of res.body!) {
      rest += Buffer.from(chunk).toString("utf8");
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const l of lines.filter(Boolean)) frames.push(JSON.parse(l));
    }
  })().catch(() => undefined);
  const waitFor = async (what: string, pred: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; frames: ${JSON.stringify(frames.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFor("output", () => frames.some((f) => f.kind === "stdout"));
    assert.ok(!frames.some((f) => f.kind === "gap"), "a gap before the disk was full");

    const filler = join(mnt, "filler");
    fill(filler);
    await waitFor("disk_full gap", () => frames.some((f) => f.kind === "gap"));
    const gapAt = frames.findIndex((f) => f.kind === "gap");
    const gap = frames[gapAt];
    assert.equal(gap.reason, "disk_full");
    assert.equal(gap.from, gap.to);
    const before = frames.slice(0, gapAt).filter((f) => f.kind === "stdout");
    assert.equal(gap.from, before.at(-1)?.cursor ?? gap.from, "the gap sits where the recorded output ended");

    // Room again: the output goes on in the same stream.
    rmSync(filler);
    const seen = frames.length;
    await waitFor("output after the disk had room", () => frames.slice(seen).some((f) => f.kind === "stdout"));
    assert.equal(frames.filter((f) => f.kind === "closed").length, 0);
  } finally {
    abort.abort();
    await reading;
    rmSync(join(mnt, "filler"), { force: true });
  }
  assert.equal((await e.remove(T, id)).status, 204);
});
