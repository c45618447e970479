/**
 * Attack, issue 15 finding 5: a hostile image ships `/etc/passwd` as a
 * symlink to a host path. Resolving a user name read the host file through
 * it (an oracle: the sandbox starts if the host file names the user) and, for
 * a FIFO on the host, froze the event loop. Now account files are read
 * confined to the layer, so the host file is never seen and the unknown user
 * fails the sandbox within 10 s with reason `start_failed` naming the user;
 * the same holds for a cached image and an unknown user, which used to leave
 * the sandbox `starting` for good.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBusyboxImage, pushFixture, writeBusyboxWithTopLayer, FIXTURE_TAG } from "../testing/fixtures.js";
import { BUSYBOX, standaloneSandboxBody } from "../testing/sandbox-env.js";
import { hostDirEnv } from "../testing/host-dir-env.js";

const TENANT = "attack-passwd";
const world = hostDirEnv(TENANT, "nimbus-attack-passwd-");

/** busybox's layer plus a top layer whose etc/passwd is a symlink to `target`; pushed as library/<name>. */
async function pushImageWithPasswdLink(name: string, target: string): Promise<string> {
  const dir = join(world.hostDir, name);
  writeBusyboxWithTopLayer(
    await buildBusyboxImage(),
    dir,
    [
      { path: "etc/", type: "dir", mode: 0o755, mtime: 1_700_000_000 },
      { path: "etc/passwd", type: "symlink", linkpath: target, mtime: 1_700_000_000 },
    ],
    { Cmd: ["sleep", "100000"], Env: ["PATH=/bin"], WorkingDir: "/" },
  );
  pushFixture(world.env.registry.backendHost, dir, `library/${name}`, FIXTURE_TAG);
  return `docker.io/library/${name}:${FIXTURE_TAG}`;
}

async function create(reference: string, user: string): Promise<string> {
  const r = await world.env.srv.request("POST", `/api/tenants/${TENANT}/sandboxes`, {
    body: standaloneSandboxBody(reference, "passwd", { argv: ["sleep", "100000"], user }),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.metadata.id;
}

/** The sandbox must end failed/start_failed within 10 s of create, with a message naming `user`. */
async function expectUserFailure(id: string, user: string, t0: number): Promise<void> {
  const row = await world.env.waitFor(TENANT, id, ["failed", "ready", "stopped"], 10_000);
  assert.ok(performance.now() - t0 < 10_000, "the failure took longer than 10 s");
  assert.equal(row.status.lifecycleState, "failed", `the sandbox is ${row.status.lifecycleState}: ${JSON.stringify(row.status)}`);
  assert.equal(row.status.reason, "start_failed");
  assert.match(row.status.conditions[0].message, new RegExp(`\`${user}\``));
  await world.env.remove(TENANT, id);
}

test("/etc/passwd -> a host file: the host file is never read, the user is unknown", { timeout: 60_000 }, async () => {
  const hostPasswd = join(world.hostDir, "host-passwd");
  writeFileSync(hostPasswd, "oracle:x:4242:4242::/:/bin/sh\n");
  const ref = await pushImageWithPasswdLink("evil-passwd-file", hostPasswd);
  const t0 = performance.now();
  await expectUserFailure(await create(ref, "oracle"), "oracle", t0);
});

test("/etc/passwd -> a host FIFO: the server does not freeze, the user is unknown", { timeout: 60_000 }, async () => {
  const fifo = join(world.hostDir, "host-fifo");
  execFileSync("mkfifo", [fifo]);
  const ref = await pushImageWithPasswdLink("evil-passwd-fifo", fifo);
  const t0 = performance.now();
  const id = await create(ref, "frozen");
  await expectUserFailure(id, "frozen", t0);
  const ping = performance.now();
  assert.equal((await world.env.srv.request("GET", `/api/tenants/${TENANT}/sandboxes`)).status, 200);
  assert.ok(performance.now() - ping < 2_000);
});

test("a cached image and an unknown user fail the sandbox within 10 s (not stuck in starting)", { timeout: 60_000 }, async () => {
  // The first create pulls busybox; the second finds it cached and resolves the user at once.
  const first = await create(BUSYBOX, "ghost");
  await expectUserFailure(first, "ghost", performance.now());
  const t0 = performance.now();
  await expectUserFailure(await create(BUSYBOX, "ghost"), "ghost", t0);
});
