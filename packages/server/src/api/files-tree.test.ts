/**
 * Issue 18 (Files) on real crun + conmon: list (recursive, depth- and
 * entry-bounded), stat, mkdir (with parents, owned by the sandbox's user,
 * exact mode), remove (recursive), rename, through the SDK; and that none of
 * them follows a symlink in the sandbox out to the host.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Nimbus, NimbusConflictError, NimbusInvalidInputError, NimbusNotFoundError } from "@nimbus/nimbus";
import type { SandboxEnv } from "../testing/sandbox-env.js";
import { shIn, startSleeperSandbox } from "../testing/sleeper-sandbox.js";

const TENANT = "tree";
let env: SandboxEnv;
let nimbus: Nimbus;
let id = "";
let hostDir = "";

const sh = (script: string) => shIn(nimbus, id, script);

before(async () => {
  ({ env, nimbus, id } = await startSleeperSandbox(TENANT, { user: "1000:1000" }));
  hostDir = mkdtempSync(join(tmpdir(), "nimbus-tree-host-"));
  writeFileSync(join(hostDir, "secret.txt"), "host secret\n");
});
after(async () => {
  rmSync(hostDir, { recursive: true, force: true });
  await env?.close();
});

test("list answers type, size, mode, owner and mtime; depth and limit bound it", async () => {
  await sh(
    "mkdir -p /tmp/l/a/b/c && echo hello > /tmp/l/f && chmod 640 /tmp/l/f && chown 1000:1000 /tmp/l/f && ln -s /etc/passwd /tmp/l/link && echo x > /tmp/l/a/b/c/deep",
  );
  const one = await nimbus.files.list({ sandboxId: id, path: "/tmp/l" });
  assert.deepEqual(
    one.entries.map((e) => [e.name, e.type]),
    [
      ["a", "directory"],
      ["f", "file"],
      ["link", "symlink"],
    ],
  );
  const f = one.entries.find((e) => e.name === "f")!;
  assert.equal(f.path, "/tmp/l/f");
  assert.equal(f.sizeBytes, 6);
  assert.equal(f.mode, 0o640);
  assert.equal(f.uid, 1000);
  assert.ok(Math.abs(Date.parse(f.mtime) - Date.now()) < 120_000, f.mtime);
  assert.equal(one.entries.find((e) => e.name === "link")!.linkTarget, "/etc/passwd");
  assert.equal(one.truncated, false);

  const deep = await nimbus.files.list({ sandboxId: id, path: "/tmp/l", depth: 4 });
  assert.ok(deep.entries.some((e) => e.path === "/tmp/l/a/b/c/deep"));
  const three = await nimbus.files.list({ sandboxId: id, path: "/tmp/l", depth: 3 });
  assert.ok(three.entries.some((e) => e.path === "/tmp/l/a/b/c"));
  assert.ok(!three.entries.some((e) => e.path === "/tmp/l/a/b/c/deep"), "depth 3 stops above the fourth level");
  const capped = await nimbus.files.list({ sandboxId: id, path: "/tmp/l", depth: 4, limit: 2 });
  assert.equal(capped.entries.length, 2);
  assert.equal(capped.truncated, true);

  const tooDeep = await env.srv.request("GET", `/api/tenants/${TENANT}/sandboxes/${id}/files/list?path=/tmp&depth=1000`);
  assert.equal(tooDeep.status, 400);
  const notDir = await nimbus.files.list({ sandboxId: id, path: "/tmp/l/f" }).catch((e) => e);
  assert.ok(notDir instanceof NimbusNotFoundError, String(notDir));
});

test("stat reports a symlink as itself and a missing path as 404", async () => {
  await sh("ln -sf /etc /tmp/etc-link");
  const link = await nimbus.files.stat({ sandboxId: id, path: "/tmp/etc-link" });
  assert.equal(link.type, "symlink");
  assert.equal(link.linkTarget, "/etc");
  const dir = await nimbus.files.stat({ sandboxId: id, path: "/tmp/etc-link/" });
  assert.equal(dir.type, "symlink", "a trailing slash is normalised away; the link is reported, not followed");
  const passwd = await nimbus.files.stat({ sandboxId: id, path: "/tmp/etc-link/passwd" });
  assert.equal(passwd.type, "file", "a symlink in the middle is followed inside the sandbox");
  const missing = await nimbus.files.stat({ sandboxId: id, path: "/nope" }).catch((e) => e);
  assert.ok(missing instanceof NimbusNotFoundError, String(missing));
  const dots = await nimbus.files.stat({ sandboxId: id, path: "/tmp/../etc" }).catch((e) => e);
  assert.ok(dots instanceof NimbusInvalidInputError, String(dots));
});

test("mkdir creates parents owned by the sandbox's user with the exact mode; without parents it needs them", async () => {
  const made = await nimbus.files.mkdir({ sandboxId: id, path: "/tmp/m/n/o", parents: true, mode: 0o750 });
  assert.equal(made.type, "directory");
  assert.equal(await sh("stat -c '%a %u %g' /tmp/m /tmp/m/n /tmp/m/n/o"), "750 1000 1000\n750 1000 1000\n750 1000 1000\n");
  const again = await nimbus.files.mkdir({ sandboxId: id, path: "/tmp/m/n/o", parents: true });
  assert.equal(again.path, "/tmp/m/n/o", "mkdir -p of an existing directory succeeds");
  const exists = await nimbus.files.mkdir({ sandboxId: id, path: "/tmp/m" }).catch((e) => e);
  assert.ok(exists instanceof NimbusConflictError, String(exists));
  const noParent = await nimbus.files.mkdir({ sandboxId: id, path: "/tmp/x/y" }).catch((e) => e);
  assert.ok(noParent instanceof NimbusNotFoundError, String(noParent));
  const named = await nimbus.files.mkdir({ sandboxId: id, path: "/tmp/named", user: "1234:5678", mode: 0o7777 });
  assert.equal(named.mode, 0o777, "setuid, setgid and sticky never come from the API");
  assert.equal(named.uid, 1234);
  await sh("echo x > /tmp/afile");
  const overFile = await nimbus.files.mkdir({ sandboxId: id, path: "/tmp/afile/sub", parents: true }).catch((e) => e);
  assert.ok(overFile instanceof NimbusConflictError, String(overFile));
});

test("remove deletes files and, with recursive, whole trees; rename moves entries", async () => {
  await sh("mkdir -p /tmp/r/a/b && touch /tmp/r/a/b/f /tmp/r/g && ln -s /etc /tmp/r/l");
  const dir = await nimbus.files.remove({ sandboxId: id, path: "/tmp/r" }).catch((e) => e);
  assert.ok(dir instanceof NimbusInvalidInputError, String(dir));
  const gone = await nimbus.files.remove({ sandboxId: id, path: "/tmp/r", recursive: true });
  assert.equal(gone.removedEntries, 6);
  assert.equal(await sh("ls /tmp/r 2>&1 || true; ls /etc/passwd"), "ls: /tmp/r: No such file or directory\n/etc/passwd\n");
  const missing = await nimbus.files.remove({ sandboxId: id, path: "/tmp/r" }).catch((e) => e);
  assert.ok(missing instanceof NimbusNotFoundError, String(missing));

  await sh("echo moved > /tmp/src && mkdir -p /tmp/dst");
  assert.deepEqual(await nimbus.files.rename({ sandboxId: id, from: "/tmp/src", to: "/tmp/dst/moved" }), { from: "/tmp/src", to: "/tmp/dst/moved" });
  assert.equal(await sh("cat /tmp/dst/moved; ls /tmp/src 2>/dev/null || echo none"), "moved\nnone\n");
  const intoItself = await nimbus.files.rename({ sandboxId: id, from: "/tmp/dst", to: "/tmp/dst/inner" }).catch((e) => e);
  assert.ok(intoItself instanceof NimbusInvalidInputError, String(intoItself));
  const noSource = await nimbus.files.rename({ sandboxId: id, from: "/tmp/none", to: "/tmp/b" }).catch((e) => e);
  assert.ok(noSource instanceof NimbusNotFoundError, String(noSource));
  const rootRm = await nimbus.files.remove({ sandboxId: id, path: "/", recursive: true }).catch((e) => e);
  assert.ok(rootRm instanceof NimbusInvalidInputError, String(rootRm));
});

test("no op follows a symlink in the sandbox to the host", async () => {
  // Absolute and relative links aimed at the host directory's path.
  await sh(`mkdir -p /tmp/esc && ln -s ${hostDir} /tmp/esc/abs && ln -s ../../../../../../..${hostDir} /tmp/esc/rel`);
  for (const link of ["/tmp/esc/abs", "/tmp/esc/rel"]) {
    const listed = await nimbus.files.list({ sandboxId: id, path: link }).catch((e) => e);
    assert.ok(listed instanceof NimbusNotFoundError, `${link}: ${String(listed)}`);
    const st = await nimbus.files.stat({ sandboxId: id, path: `${link}/secret.txt` }).catch((e) => e);
    assert.ok(st instanceof NimbusNotFoundError, `${link}: ${String(st)}`);
    const mk = await nimbus.files.mkdir({ sandboxId: id, path: `${link}/made`, parents: true }).catch((e) => e);
    // Resolved inside the sandbox, the link's target path is created there, never on the host.
    assert.ok(!(mk instanceof Error) || mk instanceof NimbusNotFoundError || mk instanceof NimbusConflictError, String(mk));
    const mv = await nimbus.files.rename({ sandboxId: id, from: `${link}/secret.txt`, to: "/tmp/stolen" }).catch((e) => e);
    assert.ok(mv instanceof NimbusNotFoundError, `${link}: ${String(mv)}`);
  }
  // A recursive remove of a tree holding links to the host removes the links, not their targets.
  const removed = await nimbus.files.remove({ sandboxId: id, path: "/tmp/esc", recursive: true });
  assert.ok(removed.removedEntries >= 3);
  assert.equal(readFileSync(join(hostDir, "secret.txt"), "utf8"), "host secret\n");
  assert.ok(!existsSync(join(hostDir, "made")));
});
