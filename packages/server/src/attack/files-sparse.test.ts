/**
 * Attack, issue 15 finding 8 (files half): a tenant `truncate -s 1T`s a file in
 * its sandbox and downloads it. The apparent size costs nothing on disk, but
 * the server hashed all of it (≈ 260 s of CPU) before answering. Now the
 * apparent size (st_size) is checked against the files channel's transfer
 * limit (--files-max-bytes) before a byte is read: 413 `op.too_large` with
 * detail.limitBytes, within 5 s, and nothing is left open or behind. An
 * upload over the limit is cut off the same way and leaves no temp file; one
 * whose Content-Length announces more than the limit is refused on the header,
 * before its body is read (the red-team rerun streamed 1 GiB before its 413).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { Nimbus } from "@nimbus/nimbus";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";

const LIMIT_BYTES = 8 * 1024 * 1024;
let env: SandboxEnv;
let nimbus: Nimbus;
let id = "";

before(async () => {
  env = await startSandboxEnv({ flags: { filesMaxBytes: String(LIMIT_BYTES) } });
  await env.tenant("sparse");
  nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: "sparse" });
  id = (await env.create("sparse", ["sleep", "100000"])).metadata.id;
  await env.waitFor("sparse", id, ["ready"]);
});
after(async () => {
  await env?.close();
});

const openFds = () => readdirSync("/proc/self/fd").length;

test("a sparse 1 TiB file is refused with 413 op.too_large within 5 s, before any hashing", { timeout: 60_000 }, async () => {
  await nimbus.sandboxes.exec({ id, argv: ["truncate", "-s", String(1024 ** 4), "/tmp/sparse"] });
  const fdsBefore = openFds();
  const t0 = performance.now();
  const res = await fetch(`${env.srv.url}/api/tenants/sparse/sandboxes/${id}/files/content?path=/tmp/sparse`, {
    headers: { authorization: `Bearer ${env.srv.token()}` },
    signal: AbortSignal.timeout(5_000),
  });
  const ms = performance.now() - t0;
  const body = (await res.json()) as any;
  assert.equal(res.status, 413, JSON.stringify(body));
  assert.equal(body.error.code, "op.too_large");
  assert.equal(body.error.detail.limitBytes, LIMIT_BYTES);
  assert.equal(body.error.detail.sizeBytes, 1024 ** 4);
  assert.ok(ms < 5_000, `took ${Math.round(ms)} ms`);
  // The file's descriptor was closed (allow for the keep-alive socket coming and going).
  assert.ok(openFds() <= fdsBefore + 1, `fds before ${fdsBefore}, after ${openFds()}`);
  // A file at the limit is still served.
  await nimbus.sandboxes.exec({ id, argv: ["truncate", "-s", String(LIMIT_BYTES), "/tmp/at-limit"] });
  const ok = await nimbus.files.read({ sandboxId: id, path: "/tmp/at-limit" });
  assert.equal(ok.data.length, LIMIT_BYTES);
});

test("an upload over the limit answers 413 and leaves no temp file in the sandbox", { timeout: 60_000 }, async () => {
  const res = await fetch(`${env.srv.url}/api/tenants/sparse/sandboxes/${id}/files/content?path=/tmp/too-big`, {
    method: "PUT",
    headers: { authorization: `Bearer ${env.srv.token()}` },
    body: Buffer.alloc(LIMIT_BYTES + 1024 * 1024),
  });
  assert.equal(res.status, 413);
  const listing = await nimbus.sandboxes.exec({ id, argv: ["ls", "-a", "/tmp"] });
  assert.doesNotMatch(listing.stdout.toString(), /nimbus-upload|too-big/);
});

test("an upload announcing more than the limit is refused on its header, before the body is sent", { timeout: 30_000 }, async () => {
  const url = new URL(env.srv.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname, () => {
      sock.write(
        `PUT /api/tenants/sparse/sandboxes/${id}/files/content?path=/tmp/huge HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${env.srv.token()}\r\n` +
          `content-type: application/octet-stream\r\ncontent-length: ${2 ** 40}\r\n\r\n` +
          "only a few bytes",
      );
    });
    let text = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer while the body was still owed (got ${JSON.stringify(text)})`));
    }, 10_000);
    sock.on("data", (d) => {
      text += d;
      if (text.includes("\r\n\r\n")) {
        clearTimeout(timer);
        sock.destroy();
        resolve(text);
      }
    });
    sock.on("error", reject);
  });
  assert.match(answer, /^HTTP\/1\.1 413/);
  assert.match(answer, /connection: close/i);
  const listing = await nimbus.sandboxes.exec({ id, argv: ["ls", "-a", "/tmp"] });
  assert.doesNotMatch(listing.stdout.toString(), /nimbus-upload|huge/);
});
