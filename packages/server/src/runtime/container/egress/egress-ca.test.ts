// The egress CA: created once with its key 0600 in a 0700 dir, reused on the
// next open; its leaves verify for their own host name only (a TLS client
// that trusts the CA connects to a server using the leaf), and are cached.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type TLSSocket } from "node:tls";
import { EgressCa } from "./egress-ca.js";

const dir = mkdtempSync(join(tmpdir(), "nimbus-egress-ca-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Whether a client trusting `caPem` accepts a server presenting `leaf` when it asks for `servername`. */
async function handshake(caPem: string, leaf: { keyPem: string; certPem: string }, servername: string): Promise<string | undefined> {
  const server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const s: TLSSocket = connect({ host: "127.0.0.1", port, servername, ca: caPem }, () => {
        s.destroy();
        resolve(undefined);
      });
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  } finally {
    server.close();
  }
}

test("the CA is created once, its key private, and reused", async () => {
  const ca = await EgressCa.open(join(dir, "ca"));
  assert.equal(statSync(join(dir, "ca")).mode & 0o777, 0o700);
  assert.equal(statSync(ca.files.keyPath).mode & 0o777, 0o600);
  assert.match(ca.files.certPem, /BEGIN CERTIFICATE/);
  const again = await EgressCa.open(join(dir, "ca"));
  assert.equal(again.files.certPem, ca.files.certPem);
});

test("a leaf verifies against the CA for its host, and for no other", async () => {
  const ca = await EgressCa.open(join(dir, "ca"));
  const leaf = await ca.leafFor("api.example.test");
  assert.equal(await handshake(ca.files.certPem, leaf, "api.example.test"), undefined);
  assert.equal(await handshake(ca.files.certPem, leaf, "other.example.test"), "ERR_TLS_CERT_ALTNAME_INVALID");
  const stranger = await EgressCa.open(join(dir, "other-ca"));
  assert.equal(await handshake(stranger.files.certPem, leaf, "api.example.test"), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
});

test("leaves are cached and minted once under concurrency; names are checked", async () => {
  const ca = await EgressCa.open(join(dir, "ca"));
  const [a, b] = await Promise.all([ca.leafFor("x.example.test"), ca.leafFor("X.example.test")]);
  assert.equal(a, b);
  assert.equal(await ca.leafFor("x.example.test"), a);
  await assert.rejects(ca.leafFor("bad name/../x"), /not a host name/);
});
