/**
 * Attack: issue 15, finding 8 (image side) — image bombs. A hostile image
 * author (or a tenant naming their image) offers content that is small on
 * the wire and huge once expanded: a gzip layer of zeros, a zstd layer of
 * zeros, a layer with very many entries, entries that claim a 1 TiB size or
 * a 1 TiB sparse size, an image whose layers are each fine but too big
 * together, and a gzip-compressed archive for `image load`. Each must be
 * refused with 413 `op.too_large` naming the limit, within 5 s of CPU, with
 * the event loop kept responsive, and nothing left under the data dir
 * (no temp files, no layer dirs, no layer blobs, no index entry).
 * The server runs with small limits (64 MiB a layer, 72 MiB an image,
 * 1000 entries, 64 MiB an archive) so the test writes no GiBs. At the
 * default limits (8 GiB a layer) a bomb is stopped by its compression ratio
 * instead, after 128 MiB of output: that test unpacks straight into a
 * scratch dir.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pushFixture } from "../testing/fixtures.js";
import { startRegistry, type TestRegistry } from "../testing/registry.js";
import { startTestServer, type TestServer } from "../testing/server.js";
import { bombLayout, claimedSizeTar, compress, manyEntriesTar, repeatedFileTar, sparseTar, zeroFileTar, type Compressed } from "../testing/bombs.js";
import { closeCheckingLeftovers } from "../testing/server-leak-check.js";
import { tempDirForFile } from "../testing/temp-dir-for-file.js";
import { unpackLayer } from "../images/unpack.js";
import { DEFAULT_IMAGE_LIMITS, LimitCounter } from "../images/limits.js";
import { ImageError } from "../images/errors.js";

const MiB = 1024 * 1024;
const TiB = 1024 ** 4;
const GZ = "application/vnd.oci.image.layer.v1.tar+gzip";
const ZST = "application/vnd.oci.image.layer.v1.tar+zstd";
const TAR = "application/vnd.oci.image.layer.v1.tar";

let registry: TestRegistry;
let srv: TestServer;
const scratch = tempDirForFile("nimbus-bombs-");
const layerBlobs: string[] = [];
let archiveBomb: Buffer;
let zstdGiB: Buffer;
let gzip512MiB: Buffer;

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

async function push(name: string, layers: Array<Compressed & { mediaType: string }>): Promise<void> {
  const dir = join(scratch, name);
  bombLayout(dir, layers);
  pushFixture(registry.backendHost, dir, `library/${name}`, "latest");
  for (const l of layers) layerBlobs.push((await import("../testing/oci-layout.js")).digestOf(l.blob).slice(7));
}

before(async () => {
  registry = await startRegistry();
  await push("gzbomb", [{ ...(await compress(zeroFileTar("zeros", 128 * MiB), "gzip")), mediaType: GZ }]);
  const zstdBomb = await compress(zeroFileTar("zeros", 1024 * MiB), "zstd");
  zstdGiB = zstdBomb.blob;
  await push("zstdbomb", [{ ...zstdBomb, mediaType: ZST }]);
  gzip512MiB = (await compress(zeroFileTar("zeros", 512 * MiB), "gzip")).blob;
  await push("many", [{ ...(await compress(once(manyEntriesTar(2000)), "gzip")), mediaType: GZ }]);
  await push("claimed", [{ ...(await compress(once(claimedSizeTar(TiB)), "none")), mediaType: TAR }]);
  await push("sparse", [{ ...(await compress(once(sparseTar(TiB)), "none")), mediaType: TAR }]);
  await push("fat", [
    { ...(await compress(zeroFileTar("a", 40 * MiB), "gzip")), mediaType: GZ },
    { ...(await compress(zeroFileTar("b", 40 * MiB), "gzip")), mediaType: GZ },
  ]);
  // The small layer is whole long before the big one crosses the image limit.
  await push("lopsided", [
    { ...(await compress(zeroFileTar("s", 16 * MiB), "gzip")), mediaType: GZ },
    { ...(await compress(zeroFileTar("b", 60 * MiB), "gzip")), mediaType: GZ },
  ]);
  archiveBomb = (await compress(zeroFileTar("junk", 128 * MiB), "gzip")).blob;
  srv = await startTestServer({
    flags: {
      registryMirrors: [`docker.io=${registry.url}`],
      imageMaxLayerBytes: String(64 * MiB),
      imageMaxBytes: String(72 * MiB),
      imageMaxLayerEntries: "1000",
      imageMaxArchiveBytes: String(64 * MiB),
    },
  });
  assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "mallory" } })).status, 201);
});

after(async () => {
  await closeCheckingLeftovers(srv, ["mallory"]);
  await registry?.stop();
});

function imagesDir(): string {
  return join(srv.root, "data", "images");
}

async function assertNothingLeft(reference?: string): Promise<void> {
  assert.deepEqual(readdirSync(join(imagesDir(), "tmp")), [], "no temp files or half-unpacked layers");
  assert.deepEqual(readdirSync(join(imagesDir(), "layers")), [], "no layer dirs");
  const blobs = new Set(readdirSync(join(imagesDir(), "blobs", "sha256")));
  assert.deepEqual(
    layerBlobs.filter((b) => blobs.has(b)),
    [],
    "no layer blobs",
  );
  if (reference) {
    const list = await srv.request("GET", "/api/images");
    assert.ok(!list.body.items.some((i: { reference: string }) => i.reference === reference), "no index entry");
  }
}

/** Runs an attack, measuring the process's CPU time and the event loop's worst delay. */
async function measured<T>(attack: () => Promise<T>): Promise<{ result: T; cpuMs: number; maxDelayMs: number }> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  try {
    const result = await attack();
    const cpu = process.cpuUsage(cpu0);
    return { result, cpuMs: (cpu.user + cpu.system) / 1000, maxDelayMs: loop.max / 1e6 };
  } finally {
    loop.disable();
  }
}

async function pullRefused(name: string, limit: string): Promise<{ cpuMs: number; maxDelayMs: number }> {
  const reference = `docker.io/library/${name}:latest`;
  const { result: r, cpuMs, maxDelayMs } = await measured(() => srv.request("POST", "/api/images/pull", { body: { reference } }));
  assert.equal(r.status, 413, JSON.stringify(r.body));
  assert.equal(r.body.error.code, "op.too_large");
  assert.equal(r.body.error.detail.limit, limit, JSON.stringify(r.body.error));
  assert.match(r.body.error.message, /limit/);
  assert.ok(cpuMs < 5000, `refused within 5 s of CPU (took ${cpuMs} ms)`);
  await assertNothingLeft(reference);
  return { cpuMs, maxDelayMs };
}

test("a gzip bomb layer (128 MiB of zeros in ~128 KiB) is refused with 413 op.too_large and leaves nothing", async () => {
  await pullRefused("gzbomb", "layerBytes");
});

test("a zstd bomb layer (1 GiB of zeros) is refused, and decoding it never holds the event loop", async () => {
  const { maxDelayMs } = await pullRefused("zstdbomb", "layerBytes");
  assert.ok(maxDelayMs < 750, `the event loop stayed responsive (worst delay ${maxDelayMs.toFixed(0)} ms)`);
});

test("at the default size limits, gzip and zstd bombs are refused by their compression ratio within 5 s of CPU", async () => {
  for (const [kind, blob] of [
    ["gzip", gzip512MiB],
    ["zstd", zstdGiB],
  ] as const) {
    const dir = mkdtempSync(join(scratch, `ratio-${kind}-`));
    const limits = DEFAULT_IMAGE_LIMITS;
    const where = `the ${kind} bomb`;
    const { result, cpuMs } = await measured(() =>
      unpackLayer(once(blob), dir, undefined, {
        bytes: [new LimitCounter("layerBytes", limits.layerBytes, where)],
        entries: new LimitCounter("layerEntries", limits.layerEntries, where),
        ratio: { max: limits.compressionRatio, where },
      }).then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
    assert.ok(result instanceof ImageError && result.kind === "too_large", `${kind}: ${String(result)}`);
    assert.equal((result.detail as { limit: string }).limit, "compressionRatio");
    assert.match(result.message, /--image-max-compression-ratio/);
    assert.ok(cpuMs < 5000, `${kind}: refused within 5 s of CPU (took ${cpuMs} ms)`);
    rmSync(dir, { recursive: true, force: true });
  }
  // A large real-looking layer (about 4:1, a quarter of every MiB random) is past the floor and well under the ratio: it unpacks.
  const ok = mkdtempSync(join(scratch, "ratio-ok-"));
  const fill = Buffer.concat([randomBytes(256 * 1024), Buffer.alloc(768 * 1024)]);
  const normal = await compress(repeatedFileTar("data.bin", 160 * MiB, fill), "gzip");
  await unpackLayer(once(normal.blob), ok, undefined, {
    bytes: [new LimitCounter("layerBytes", DEFAULT_IMAGE_LIMITS.layerBytes, "ok")],
    entries: new LimitCounter("layerEntries", DEFAULT_IMAGE_LIMITS.layerEntries, "ok"),
    ratio: { max: DEFAULT_IMAGE_LIMITS.compressionRatio, where: "ok" },
  });
  rmSync(ok, { recursive: true, force: true });
});

test("a layer with more entries than the limit is refused", async () => {
  await pullRefused("many", "layerEntries");
});

test("an entry claiming a 1 TiB size it never carries is refused at its header", async () => {
  await pullRefused("claimed", "layerBytes");
});

test("a sparse entry with a 1 TiB apparent size is charged its apparent size", async () => {
  await pullRefused("sparse", "layerBytes");
});

test("layers that are each under the layer limit but together over the image limit are refused", async () => {
  await pullRefused("fat", "imageBytes");
});

test("a layer finished before its sibling crosses the image limit is not left behind either", async () => {
  await pullRefused("lopsided", "imageBytes");
});

test("a tenant's sandbox from a bomb image fails with pull_failed naming the limit, and leaves nothing", async () => {
  const body = {
    profile: "worker",
    spec: {
      owner: { kind: "standalone" },
      backend: "container",
      root: { kind: "oci_image", source: { kind: "reference", reference: "docker.io/library/gzbomb:latest" } },
      process: { argv: ["true"] },
    },
  };
  const created = await srv.request("POST", "/api/tenants/mallory/sandboxes", { body });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.metadata.id;
  const deadline = Date.now() + 30_000;
  let status: any;
  for (;;) {
    status = (await srv.request("GET", `/api/tenants/mallory/sandboxes/${id}`)).body.status;
    if (status.lifecycleState === "failed" || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status.lifecycleState, "failed", JSON.stringify(status));
  assert.equal(status.reason, "pull_failed");
  assert.match(status.conditions[0].message, /over the limit on the uncompressed layer size/);
  assert.equal((await srv.request("DELETE", `/api/tenants/mallory/sandboxes/${id}`)).status, 204);
  await assertNothingLeft();
});

test("image load: a gzip-compressed archive that expands past the archive limit is refused, staged upload removed", async () => {
  const { result: res, cpuMs } = await measured(() =>
    fetch(`${srv.url}/api/images/load`, {
      method: "POST",
      headers: { authorization: `Bearer ${srv.token()}`, "content-type": "application/x-tar" },
      body: new Uint8Array(archiveBomb),
    }),
  );
  const body = (await res.json()) as any;
  assert.equal(res.status, 413, JSON.stringify(body));
  assert.equal(body.error.code, "op.too_large");
  assert.equal(body.error.detail.limit, "archiveBytes");
  assert.ok(!JSON.stringify(body).includes(imagesDir()), "no host path in the answer");
  assert.ok(cpuMs < 5000, `refused within 5 s of CPU (took ${cpuMs} ms)`);
  await assertNothingLeft();
});
