import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore } from "./image-store.js";
import { ImageError, isImageError } from "./errors.js";
import { RegistryClient } from "./registry-client.js";
import { startRegistry, type TestRegistry, type RegistryAuth } from "../testing/registry.js";
import { buildBusyboxImage, buildWhiteoutImage, fixtureRootfs, pushFixture } from "../testing/fixtures.js";
import { serveLayout } from "../testing/layout-server.js";
import { describeTree, diffTrees } from "../testing/tree.js";

const roots: string[] = [];
let busybox: string;
let whiteout: string;

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "nimbus-regc-"));
  roots.push(root);
  return root;
}

function dockerConfig(host: string, user: string, pass: string): string {
  const path = join(tempRoot(), "config.json");
  writeFileSync(path, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString("base64") } } }));
  return path;
}

function emptyStoreDirs(root: string): void {
  for (const d of ["tmp", "layers", "blobs/sha256"]) assert.deepEqual(readdirSync(join(root, d)), [], `${d} is empty`);
}

before(async () => {
  busybox = await buildBusyboxImage();
  whiteout = await buildWhiteoutImage();
});
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

for (const scheme of ["basic", "bearer"] as const) {
  test(`auth (${scheme}): credentials from the docker config pull; none or wrong ones fail naming the registry`, async (t) => {
    const auth: RegistryAuth = { scheme, username: "alice", password: "s3cret" };
    const registry: TestRegistry = await startRegistry({ auth });
    t.after(() => registry.stop());
    pushFixture(registry.backendHost, busybox, "private/busybox", "v1");
    const ref = `${registry.host}/private/busybox:v1`;

    const good = new ImageStore({ registryAllowPrivate: true, root: tempRoot(), dockerConfigPath: dockerConfig(registry.host, "alice", "s3cret") });
    await good.init();
    const img = await good.pull(ref);
    assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
    if (scheme === "bearer") assert.ok(registry.requests.includes("GET /token"), "the token endpoint was used");

    const anonymous = new ImageStore({ registryAllowPrivate: true, root: tempRoot(), dockerConfigPath: join(tempRoot(), "missing.json") });
    await anonymous.init();
    await assert.rejects(anonymous.pull(ref), (e: unknown) => {
      assert.ok(isImageError(e, "unauthorized"), String(e));
      assert.match(e.message, new RegExp(`registry ${registry.host} requires authentication`));
      assert.match(e.message, /no credentials/);
      return true;
    });

    const wrong = new ImageStore({ registryAllowPrivate: true, root: tempRoot(), dockerConfigPath: dockerConfig(registry.host, "alice", "nope") });
    await wrong.init();
    await assert.rejects(wrong.pull(ref), (e: unknown) => {
      assert.ok(isImageError(e, "unauthorized"), String(e));
      assert.match(e.message, new RegExp(`registry ${registry.host} refused .*"alice"`));
      return true;
    });
  });
}

function zstdLayerDigest(layout: string): string {
  const dir = join(layout, "blobs", "sha256");
  const hex = readdirSync(dir).find((h) => readFileSync(join(dir, h)).readUInt32BE(0) === 0x28b52ffd);
  return `sha256:${hex}`;
}

test("a blob whose bytes do not match its digest is rejected and nothing of it stays on disk", async (t) => {
  const layerDigest = zstdLayerDigest(whiteout);
  const server = await serveLayout(whiteout, { corrupt: new Set([layerDigest]) });
  t.after(() => server.stop());
  const root = tempRoot();
  const store = new ImageStore({ registryAllowPrivate: true, root });
  await store.init();
  await assert.rejects(store.pull(`${server.host}/whiteout:latest`), (e: unknown) => {
    assert.ok(isImageError(e, "digest_mismatch"), String(e));
    assert.match(e.message, new RegExp(layerDigest));
    return true;
  });
  assert.deepEqual(readdirSync(join(root, "tmp")), []);
  assert.ok(readdirSync(join(root, "layers")).length <= 1, "at most the other, intact layer");
  assert.ok(!readdirSync(join(root, "blobs", "sha256")).includes(layerDigest.slice(7)), "the corrupt blob is not stored");
  assert.equal(store.list().length, 0);
});

test("a manifest that does not match its digest, or an unknown digest, is rejected before anything is stored", async (t) => {
  const top = (JSON.parse(readFileSync(join(whiteout, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;
  const server = await serveLayout(whiteout, { corrupt: new Set([top]) });
  t.after(() => server.stop());
  const root = tempRoot();
  const store = new ImageStore({ registryAllowPrivate: true, root });
  await store.init();
  await assert.rejects(store.pull(`${server.host}/whiteout:latest`), (e: unknown) => isImageError(e, "digest_mismatch"));
  await assert.rejects(store.pull(`${server.host}/whiteout@${top}`), (e: unknown) => isImageError(e, "digest_mismatch"));
  await assert.rejects(store.pull(`${server.host}/whiteout@sha256:${"0".repeat(64)}`), (e: unknown) => isImageError(e, "not_found"));
  emptyStoreDirs(root);
});

test("retries on 503, follows blob redirects to another origin without sending credentials", async (t) => {
  const server = await serveLayout(busybox, { failFirst: 2, redirectBlobs: true });
  t.after(() => server.stop());
  const root = tempRoot();
  const store = new ImageStore({ registryAllowPrivate: true, root, dockerConfigPath: dockerConfig(server.host, "bob", "pw") });
  await store.init();
  const img = await store.pull(`${server.host}/busybox:latest`);
  assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busybox)), describeTree(img.layers[0]!.dir)), []);
  const storage = server.log.filter((l) => l.origin === "storage");
  assert.ok(storage.length >= 2, "blobs came from the storage origin");
  assert.ok(
    storage.every((l) => l.authorization === undefined),
    "no credentials sent to blob storage",
  );
});

test("gives up after the configured retries with a network error naming the registry", async (t) => {
  const server = await serveLayout(busybox, { failFirst: 100 });
  t.after(() => server.stop());
  const client = new RegistryClient({ retries: 2, retryBaseMs: 5 });
  const ep = client.endpoints(server.host)[0]!;
  const manifest = await client.getManifest(ep, "busybox", "latest");
  const index = JSON.parse(manifest.bytes.toString()) as { manifests: Array<{ digest: string }> };
  await assert.rejects(client.getBlob(ep, "busybox", index.manifests[0]!.digest), (e: unknown) => {
    assert.ok(isImageError(e, "network"));
    assert.match(e.message, new RegExp(`registry ${server.host} answered 503`));
    return true;
  });
});

test("a registry that never answers times out", async (t) => {
  const server = await serveLayout(busybox, { hangBlobs: true });
  t.after(() => server.stop());
  const client = new RegistryClient({ timeoutMs: 200, retries: 1, retryBaseMs: 5 });
  const ep = client.endpoints(server.host)[0]!;
  const t0 = Date.now();
  await assert.rejects(client.getBlob(ep, "busybox", `sha256:${"1".repeat(64)}`), (e: unknown) => {
    assert.ok(e instanceof ImageError && e.kind === "network", String(e));
    assert.match(e.message, /timed out after 200 ms/);
    return true;
  });
  assert.ok(Date.now() - t0 < 3000);
});

test("endpoints: mirrors first, plain HTTP only for loopback and insecure registries", () => {
  const client = new RegistryClient({ mirrors: { "docker.io": ["http://127.0.0.1:5000/"] }, insecureRegistries: ["reg.lan:5000"] });
  assert.deepEqual(
    client.endpoints("docker.io").map((e) => e.base),
    ["http://127.0.0.1:5000", "https://registry-1.docker.io"],
  );
  assert.deepEqual(
    client.endpoints("reg.lan:5000").map((e) => e.base),
    ["http://reg.lan:5000"],
  );
  assert.deepEqual(
    client.endpoints("ghcr.io").map((e) => e.base),
    ["https://ghcr.io"],
  );
  assert.deepEqual(
    client.endpoints("localhost:5000").map((e) => e.base),
    ["http://localhost:5000"],
  );
});

test("registry tokens kept are bounded: the least recently used is dropped and asked for again, the others are reused", async () => {
  // A bearer registry in a fetch function: a repository's manifest needs that repository's token.
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2 }));
  const tokenScopes: string[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    if (url.pathname === "/token") {
      const scope = url.searchParams.get("scope")!;
      tokenScopes.push(scope);
      return Response.json({ token: `t:${scope}` });
    }
    const repository = url.pathname.split("/")[2]!;
    if (new Headers(init?.headers).get("authorization") !== `Bearer t:repository:${repository}:pull`) {
      return new Response(null, { status: 401, headers: { "www-authenticate": `Bearer realm="${url.origin}/token",service="test"` } });
    }
    return new Response(manifest, { headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
  }) as typeof fetch;
  const client = new RegistryClient({ fetchFn, maxCachedAuth: 2, retries: 0 });
  const ep = client.endpoints("127.0.0.1:5999")[0]!;
  const asked = (repository: string) => tokenScopes.filter((s) => s === `repository:${repository}:pull`).length;
  for (const repository of ["a", "b", "a", "c", "a", "b"]) await client.getManifest(ep, repository, "latest");
  assert.equal(asked("a"), 1, "a, used most recently each time, kept its token");
  assert.equal(asked("c"), 1);
  assert.equal(asked("b"), 2, "b's token was dropped for c's (two kept) and asked for again");
});
