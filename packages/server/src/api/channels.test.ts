/**
 * Acceptance (Sessions #4, #5) for the exec and files channels on real crun +
 * conmon: exit codes and output come back, a missing binary is a clear
 * error, 100 MiB round-trips with matching sha256, and no path or symlink
 * trick reaches a host file.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Nimbus, NimbusConflictError, NimbusInvalidInputError, NimbusNotFoundError } from "@nimbus/nimbus";
import type { SandboxEnv } from "../testing/sandbox-env.js";
import { startSleeperSandbox } from "../testing/sleeper-sandbox.js";

let env: SandboxEnv;
let nimbus: Nimbus;
let id = "";
let hostDir = "";
let hostFile = "";
const HOST_CONTENT = "host secret, must never be read or written through a sandbox\n";

before(async () => {
  ({ env, nimbus, id } = await startSleeperSandbox("files"));
  hostDir = mkdtempSync(join(tmpdir(), "nimbus-hostfile-"));
  hostFile = join(hostDir, "secret.txt");
  writeFileSync(hostFile, HOST_CONTENT);
});
after(async () => {
  rmSync(hostDir, { recursive: true, force: true });
  await env?.close();
});

test("exec returns the exit code, stdout and stderr", async () => {
  const r = await nimbus.sandboxes.exec({ id, argv: ["sh", "-c", "echo out; echo err >&2; exit 5"] });
  assert.equal(r.exitCode, 5);
  assert.equal(r.stdout.toString(), "out\n");
  assert.equal(r.stderr.toString(), "err\n");
});

test("exec passes stdin, env and cwd", async () => {
  const r = await nimbus.sandboxes.exec({ id, argv: ["sh", "-c", "echo $FOO; pwd; cat"], env: ["FOO=bar"], cwd: "/tmp", stdin: "from stdin" });
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.toString(), "bar\n/tmp\nfrom stdin");
});

test("exec of a missing binary is a clear error, not a hang", async () => {
  const started = Date.now();
  const err = await nimbus.sandboxes.exec({ id, argv: ["/no/such/binary"] }).catch((e) => e);
  assert.ok(err instanceof NimbusInvalidInputError, String(err));
  assert.match(err.message, /could not start `\/no\/such\/binary`/);
  assert.ok(Date.now() - started < 10_000);
});

test("exec is killed at its timeout, inside the sandbox too", async () => {
  const started = Date.now();
  const r = await nimbus.sandboxes.exec({ id, argv: ["sleep", "31"], timeoutMs: 300 });
  assert.equal(r.exitCode, 137);
  assert.ok(Date.now() - started < 10_000, "the answer does not wait for the command");
  const ps = await nimbus.sandboxes.exec({ id, argv: ["ps", "-o", "args"] });
  assert.equal(ps.stdout.toString().includes("sleep 31"), false, "the timed-out process is gone");
});

test("the exec channel of a session needs an open session opened with exec", async () => {
  const withExec = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["exec"] });
  const ok = await env.srv.request("POST", `/api/sessions/${withExec.metadata.id}/channels/exec/stream?tenantId=files`, { body: { argv: ["echo", "hi"] } });
  assert.equal(ok.status, 200);
  const frames = String(ok.body)
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(Buffer.from(frames[0].data, "base64").toString(), "hi\n");
  assert.deepEqual(frames.at(-1), { kind: "exit", code: 0 });
  const stdioOnly = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["stdio"] });
  const wrong = await env.srv.request("POST", `/api/sessions/${stdioOnly.metadata.id}/channels/exec/stream?tenantId=files`, { body: { argv: ["echo"] } });
  assert.equal(wrong.status, 409);
  await nimbus.sessions.close({ id: withExec.metadata.id });
  const closed = await env.srv.request("POST", `/api/sessions/${withExec.metadata.id}/channels/exec/stream?tenantId=files`, { body: { argv: ["echo"] } });
  assert.equal(closed.status, 409);
  assert.equal(closed.body.error.code, "op.conflict");
  await nimbus.sessions.close({ id: stdioOnly.metadata.id });
});

test("files: a 100 MiB upload and download round trip with matching sha256", async () => {
  const size = 100 * 1024 * 1024;
  const hash = createHash("sha256");
  const chunk = randomBytes(1024 * 1024);
  async function* body() {
    for (let i = 0; i < size / chunk.length; i++) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const up = await nimbus.files.write({ sandboxId: id, path: "/tmp/big.bin", data: Readable.from(body()) });
  const expected = hash.digest("hex");
  assert.equal(up.sha256, expected);
  assert.equal(up.sizeBytes, size);
  const inside = await nimbus.sandboxes.exec({ id, argv: ["sh", "-c", "sha256sum /tmp/big.bin | cut -d' ' -f1"] });
  assert.equal(inside.stdout.toString().trim(), expected, "the sandbox sees the same bytes");
  const down = await nimbus.files.read({ sandboxId: id, path: "/tmp/big.bin" });
  assert.equal(down.sha256, expected);
  assert.equal(createHash("sha256").update(down.data).digest("hex"), expected);
  await nimbus.sandboxes.exec({ id, argv: ["rm", "/tmp/big.bin"] });
});

test("files: traversal and symlink escapes never touch the host file", async () => {
  const before = statSync(hostFile).mtimeMs;
  await nimbus.sandboxes.exec({
    id,
    argv: ["sh", "-c", `ln -s ${hostFile} /tmp/abs-link; ln -s ../../../../../../../..${hostFile} /tmp/rel-link; ln -s ${hostDir} /tmp/dir-link`],
  });
  for (const path of ["/tmp/abs-link", "/tmp/rel-link", "/tmp/dir-link/secret.txt", `/../../../../..${hostFile}`, `/tmp/../../..${hostFile}`]) {
    const read = await nimbus.files.read({ sandboxId: id, path }).catch((e) => e);
    assert.ok(read instanceof NimbusNotFoundError, `${path}: ${read instanceof Error ? read.message : "read succeeded: " + read.data}`);
  }
  for (const path of ["/tmp/abs-link", "/tmp/rel-link", "/tmp/dir-link/secret.txt"]) {
    const w = await nimbus.files.write({ sandboxId: id, path, data: Buffer.from("overwritten") }).catch((e) => e);
    // Either refused or written inside the sandbox; never through to the host.
    if (!(w instanceof Error)) assert.equal(w.sizeBytes, 11);
  }
  assert.equal(readFileSync(hostFile, "utf8"), HOST_CONTENT);
  assert.equal(statSync(hostFile).mtimeMs, before);
  const rel = await nimbus.sandboxes.exec({ id, argv: ["cat", "/tmp/rel-link"] });
  assert.equal(rel.stdout.toString(), "overwritten", "the upload replaced the link inside the sandbox");
});

test("files: bad paths and missing files answer with the envelope", async () => {
  const relative = await env.srv.request("GET", `/api/tenants/files/sandboxes/${id}/files/content?path=etc/passwd`);
  assert.equal(relative.status, 400);
  const missing = await nimbus.files.read({ sandboxId: id, path: "/nope/nothing" }).catch((e) => e);
  assert.ok(missing instanceof NimbusNotFoundError);
  const noDir = await nimbus.files.write({ sandboxId: id, path: "/nope/file", data: Buffer.from("x") }).catch((e) => e);
  assert.ok(noDir instanceof NimbusNotFoundError);
  const dir = await nimbus.files.read({ sandboxId: id, path: "/tmp" }).catch((e) => e);
  assert.ok(dir instanceof NimbusInvalidInputError);
  const small = await nimbus.files.write({ sandboxId: id, path: "/tmp/run.sh", data: Buffer.from("#!/bin/sh\necho ran\n"), mode: 0o755 });
  assert.equal(small.sizeBytes, 19);
  assert.equal((await nimbus.sandboxes.exec({ id, argv: ["/tmp/run.sh"] })).stdout.toString(), "ran\n");
});

test("exec and files need a ready sandbox", async () => {
  const done = await env.create("files", ["true"]);
  await env.waitFor("files", done.metadata.id, ["stopped"]);
  const e = await nimbus.sandboxes.exec({ id: done.metadata.id, argv: ["true"] }).catch((x) => x);
  assert.ok(e instanceof NimbusConflictError);
  const f = await nimbus.files.read({ sandboxId: done.metadata.id, path: "/etc/hostname" }).catch((x) => x);
  assert.ok(f instanceof NimbusConflictError);
});

test("the files channel of a session reads and writes its sandbox; without the channel it is refused", async () => {
  const s = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["files"] });
  const base = `${env.srv.url}/api/sessions/${s.metadata.id}/channels/files/content?tenantId=files&path=/tmp/via-session.txt`;
  const auth = { authorization: `Bearer ${env.srv.token()}` };
  const put = await fetch(base, { method: "PUT", headers: auth, body: "through the lease" });
  assert.equal(put.status, 200);
  const written = (await put.json()) as { sizeBytes: number; sha256: string };
  assert.equal(written.sizeBytes, 17);
  const get = await fetch(base, { headers: auth });
  assert.equal(await get.text(), "through the lease");
  assert.equal(get.headers.get("x-content-sha256"), written.sha256);
  const other = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["exec"] });
  const refused = await fetch(`${env.srv.url}/api/sessions/${other.metadata.id}/channels/files/content?tenantId=files&path=/tmp/via-session.txt`, {
    headers: auth,
  });
  assert.equal(refused.status, 409);
  await nimbus.sessions.close({ id: s.metadata.id });
  await nimbus.sessions.close({ id: other.metadata.id });
});
