/**
 * Attack test, issue 15 finding 2: the data dir is readable by other local
 * users. The operator pre-creates the data dir with a plain `mkdir` (0755)
 * and starts the server on it; a sandbox runs. Then, as the unprivileged
 * host user 65534 (`setpriv --reuid=65534 --regid=65534 --clear-groups`),
 * the attacker tries to list the data dir and the extracted layers, read
 * nimbus.db (every sandbox's env), and execute a setuid-root binary sitting
 * in an extracted layer dir (as an image would ship it). Every attempt must
 * fail. Also: a data dir owned by another user is refused with the chown
 * command, and a non-root sandbox still starts, reads its rootfs and writes
 * /tmp behind the 0700 dirs.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { startTestServer } from "../testing/server.js";

const NOBODY = 65534;
let env: SandboxEnv;
let root: string;
let dataDir: string;

function asNobody(argv: string[]): { status: number | null; out: string } {
  // Through sh: setpriv keeps root's capabilities until its own execve, so the path of the command it execs is
  // looked up with CAP_DAC_OVERRIDE; a shell running as 65534 does what the attacker's own program would.
  const r = spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "/bin/sh", "-c", 'exec "$@"', "sh", ...argv], {
    encoding: "utf8",
    timeout: 10_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

before(async () => {
  // The test root is traversable (as /home/<user> often is) so that only the data dir's own modes stand in the way.
  root = mkdtempSync(join(tmpdir(), "nimbus-attack-perms-"));
  chmodSync(root, 0o755);
  dataDir = join(root, "data");
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755); // as `mkdir data` leaves it under umask 022
  env = await startSandboxEnv({ root });
});
after(async () => {
  await env?.close();
});

test("as uid 65534 nothing under a pre-created 0755 data dir can be listed, read or executed", async () => {
  await env.tenant("t1");
  const sb = await env.create("t1", ["sh", "-c", "sleep 600"], { env: ["SECRET_TOKEN=hunter2"] });
  await env.waitFor("t1", sb.metadata.id, ["ready"]);

  const layersDir = join(dataDir, "images", "layers");
  const layer = readdirSync(layersDir)
    .map((d) => join(layersDir, d))
    .find((d) => {
      try {
        return statSync(join(d, "bin", "busybox")).isFile();
      } catch {
        return false;
      }
    });
  assert.ok(layer, "the busybox layer was extracted");
  // A setuid-root binary as an image would ship it inside a layer.
  const setuidBin = join(layer, "bin", "suid-id");
  copyFileSync("/usr/bin/id", setuidBin);
  chmodSync(setuidBin, 0o4755);

  // Sanity: the attacker's tool works at all (setpriv exists, uid 65534 runs programs).
  const self = asNobody(["/usr/bin/id", "-u"]);
  assert.equal(self.status, 0, self.out);
  assert.equal(self.out.trim(), String(NOBODY));

  const attempts: Array<[string, string[]]> = [
    ["list the data dir", ["/bin/ls", dataDir]],
    ["list the extracted layers", ["/bin/ls", layersDir]],
    ["list a layer", ["/bin/ls", layer]],
    ["read nimbus.db", ["/bin/cat", join(dataDir, "nimbus.db")]],
    ["read nimbus.db-wal", ["/bin/cat", join(dataDir, "nimbus.db-wal")]],
    ["list the runtime bundles", ["/bin/ls", join(dataDir, "runtime", "c")]],
    ["read the sandbox's config.json (its env)", ["/bin/cat", join(dataDir, "runtime", "c", sb.metadata.id, "config.json")]],
    ["run a binary from a layer", [join(layer, "bin", "busybox"), "true"]],
    ["run a setuid-root binary from a layer", [setuidBin, "-u"]],
  ];
  const got: string[] = [];
  for (const [what, argv] of attempts) {
    const r = asNobody(argv);
    if (r.status === 0) got.push(`${what}: succeeded (${r.out.trim().slice(0, 80)})`);
  }
  assert.deepEqual(got, [], "uid 65534 got through");

  // The modes themselves, for the files named by the finding.
  const mode = (p: string) => statSync(p).mode & 0o7777;
  assert.equal(mode(dataDir), 0o700);
  for (const f of ["nimbus.db", "nimbus.db-wal", "nimbus.db-shm", "nimbus.pid"]) assert.equal(mode(join(dataDir, f)), 0o600, f);
  for (const d of ["images", "runtime", join("images", "layers"), join("images", "blobs")]) assert.equal(mode(join(dataDir, d)), 0o700, d);

  rmSync(setuidBin);
  await env.remove("t1", sb.metadata.id);
});

test("a non-root sandbox still starts, reads its rootfs and writes /tmp behind the 0700 data dir", async () => {
  await env.tenant("t2");
  const body = {
    ...busyboxSandboxBody(["sh", "-c", "id -u; ls /bin/busybox; echo hi > /tmp/x && cat /tmp/x; sleep 600"], { displayName: "nonroot", user: "1000" }),
    labels: {},
  };
  const r = await env.srv.request("POST", "/api/tenants/t2/sandboxes", { body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.metadata.id;
  await env.waitFor("t2", id, ["ready"]);
  const deadline = Date.now() + 10_000;
  let out = "";
  while (Date.now() < deadline && !out.includes("hi")) {
    out = await env.logs("t2", id);
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.match(out, /1000/);
  assert.match(out, /\/bin\/busybox/);
  assert.match(out, /hi/);
  await env.remove("t2", id);
});

test("a data dir owned by another user is refused with the command that fixes it", async () => {
  const other = mkdtempSync(join(tmpdir(), "nimbus-attack-owner-"));
  try {
    const data = join(other, "data");
    mkdirSync(data, { mode: 0o755 });
    chownSync(data, NOBODY, NOBODY);
    await assert.rejects(startTestServer({ root: other }), (err: Error) => {
      assert.match(err.message, /owned by uid 65534/);
      assert.match(err.message, new RegExp(`chown -R 0:0 ${data}`));
      return true;
    });
    assert.deepEqual(readdirSync(data), [], "nothing was created in it");
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});
