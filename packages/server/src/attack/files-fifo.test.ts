/**
 * Attack, issue 15 finding 7: tenant A makes 20 FIFOs in its sandbox and asks
 * the files channel to download them all at once. Opening a FIFO for reading
 * blocks until a writer comes, so each request held one of libuv's 4 shared
 * pool threads forever, and every tenant's exec, mount and fsync queued behind
 * them. Now the files channel opens regular files only (an O_PATH fstat
 * first, so a FIFO is never opened) and answers 400 `op.not_a_regular_file`
 * naming the path, and tenant B's exec completes in under 3 s throughout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { Nimbus } from "@nimbus/nimbus";
import { sandboxEnvForFile } from "../testing/sandbox-env-for-file.js";

const FIFOS = 20;
const world = sandboxEnvForFile(["fifo-a", "fifo-b"]);

/** Opens each FIFO for writing from the host, which releases a reader stuck in open() (only needed on the old code). */
function releaseReaders(rootfs: string): void {
  for (let i = 0; i < FIFOS; i++) {
    try {
      closeSync(openSync(join(rootfs, "tmp", `p${i}`), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      /* no reader waiting (ENXIO): nothing to release */
    }
  }
}

test("20 downloads of FIFOs by tenant A are refused at once, and tenant B's exec runs in under 3 s meanwhile", { timeout: 120_000 }, async () => {
  const a = (await world.env.create("fifo-a", ["sh", "-c", `for i in $(seq 0 ${FIFOS - 1}); do mkfifo /tmp/p$i; done; mkdir /tmp/dir; exec sleep 100000`]))
    .metadata.id;
  const b = (await world.env.create("fifo-b", ["sleep", "100000"])).metadata.id;
  await world.env.waitFor("fifo-a", a, ["ready"]);
  await world.env.waitFor("fifo-b", b, ["ready"]);
  const nimbusB = new Nimbus({ endpoint: world.env.srv.url, token: world.env.srv.token(), tenantId: "fifo-b" });
  await nimbusB.sandboxes.exec({ id: b, argv: ["true"] }); // warm up
  const rootfsA = world.env.srv.server.parts.runtime.rootfsPath(a);
  // Wait until the mkfifo loop is done.
  for (let i = 0; i < 100; i++) {
    const r = await world.env.srv.request("GET", `/api/tenants/fifo-a/sandboxes/${a}/files/content?path=/tmp/p${FIFOS - 1}`);
    if (r.status !== 404) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const abort = new AbortController();
  const held = Array.from({ length: FIFOS }, (_, i) =>
    fetch(`${world.env.srv.url}/api/tenants/fifo-a/sandboxes/${a}/files/content?path=/tmp/p${i}`, {
      headers: { authorization: `Bearer ${world.env.srv.token()}` },
      signal: abort.signal,
    }).then(
      async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }),
      () => ({ status: 0, body: null }),
    ),
  );
  try {
    await new Promise((res) => setTimeout(res, 300)); // let A's requests reach the server
    const t0 = performance.now();
    const exec = await Promise.race([
      nimbusB.sandboxes.exec({ id: b, argv: ["echo", "b is fine"] }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("tenant B's exec did not finish within 10 s")), 10_000)),
    ]);
    const execMs = performance.now() - t0;
    assert.equal(exec.stdout.toString(), "b is fine\n");
    assert.ok(execMs < 3_000, `tenant B's exec took ${Math.round(execMs)} ms while tenant A held FIFO downloads`);
    const answers = await Promise.race([Promise.all(held), new Promise<null>((res) => setTimeout(() => res(null), 5_000))]);
    assert.ok(answers, "tenant A's FIFO downloads were not answered within 5 s");
    answers.forEach((r, i) => {
      assert.equal(r.status, 400, `FIFO ${i}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, "op.not_a_regular_file");
      assert.match(r.body.error.message, new RegExp(`/tmp/p${i} is a fifo`));
    });
    const dir = await world.env.srv.request("GET", `/api/tenants/fifo-a/sandboxes/${a}/files/content?path=/tmp/dir`);
    assert.equal(dir.status, 400);
    assert.equal(dir.body.error.code, "op.not_a_regular_file");
  } finally {
    abort.abort();
    releaseReaders(rootfsA);
    await Promise.all(held);
    await world.env.remove("fifo-a", a);
    await world.env.remove("fifo-b", b);
  }
});
