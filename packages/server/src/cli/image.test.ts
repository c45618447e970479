/**
 * `nimbus image pull|ls|rm|prune|load` on the built binary against a
 * `nimbus start` child and a real loopback registry, and a pull interrupted
 * by kill -9 of the server: nothing partial survives the restart and the
 * next pull yields a layer equal to its source tree.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { isolatedEnv, makeTempRoot, runNimbus, spawnServer, type ServerProcess } from "../testing/cli.js";
import { archiveFixture, buildBusyboxImage, buildBusyboxPlusImage, fixtureRootfs, pushFixture, FIXTURE_TAG } from "../testing/fixtures.js";
import { listen, startRegistry, type TestRegistry } from "../testing/registry.js";
import { describeTree, diffTrees } from "../testing/tree.js";

const BUSYBOX = "docker.io/library/busybox:latest";
const PLUS = "docker.io/library/busybox-plus:latest";

const tmp = makeTempRoot("nimbus-image-cli-");
const env = isolatedEnv(tmp.root);
let registry: TestRegistry;
let busyboxLayout = "";
const servers: ServerProcess[] = [];
let slow: SlowFront;

/**
 * A front for the registry that, while `throttled`, sends blob bodies at
 * about 256 KiB/s, so a test can act in the middle of a download.
 */
interface SlowFront {
  url: string;
  throttled: boolean;
  /** Bytes of blob bodies sent so far. */
  blobBytes: number;
  close(): Promise<void>;
}

async function startSlowFront(target: string): Promise<SlowFront> {
  const to = new URL(target);
  const front: SlowFront = { url: "", throttled: true, blobBytes: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, async (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      const isBlob = /\/blobs\/sha256:/.test(req.url ?? "");
      try {
        for await (const chunk of upRes as AsyncIterable<Buffer>) {
          for (let i = 0; i < chunk.length; i += 16 * 1024) {
            const part = chunk.subarray(i, i + 16 * 1024);
            if (!res.write(part)) await new Promise((r) => res.once("drain", r));
            if (isBlob) front.blobBytes += part.length;
            if (isBlob && front.throttled) await new Promise((r) => setTimeout(r, 60));
            if (res.destroyed) return;
          }
        }
        res.end();
      } catch {
        res.destroy();
      }
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  const port = await listen(server);
  front.url = `http://127.0.0.1:${port}`;
  front.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return front;
}

before(async () => {
  registry = await startRegistry();
  busyboxLayout = await buildBusyboxImage();
  pushFixture(registry.backendHost, busyboxLayout, "library/busybox", FIXTURE_TAG);
  pushFixture(registry.backendHost, await buildBusyboxPlusImage(), "library/busybox-plus", FIXTURE_TAG);
  slow = await startSlowFront(registry.url);
});

after(async () => {
  for (const s of servers) await s.stop("SIGKILL");
  await slow?.close();
  await registry?.stop();
  tmp.cleanup();
});

async function serve(dataDir: string, mirror: string): Promise<ServerProcess> {
  const s = await spawnServer(["--data-dir", dataDir, "--registry-mirror", `docker.io=${mirror}`], env);
  servers.push(s);
  return s;
}

async function nimbus(...args: string[]) {
  const r = await runNimbus(args, env);
  return { ...r, json: () => JSON.parse(r.stdout) };
}

test("image pull prints plain progress lines off a terminal; ls --json, rm, prune and load work through the SDK", async () => {
  const dataDir = join(tmp.root, "data-ops");
  const server = await serve(dataDir, registry.url);
  try {
    const pull = await nimbus("image", "pull", "busybox");
    assert.equal(pull.code, 0, pull.stderr);
    const lines = pull.stdout.trim().split("\n");
    assert.match(lines[0]!, /^resolved docker\.io\/library\/busybox:latest to sha256:[0-9a-f]{64} \(1 layer\)$/);
    assert.match(lines.at(-2)!, /^layer [0-9a-f]{12} {2}done {2}1\.0 MiB$/);
    assert.match(lines.at(-1)!, /^pulled docker\.io\/library\/busybox:latest \(sha256:[0-9a-f]{64}, 1 layer, 1\.0 MiB\)$/);
    assert.ok(!pull.stdout.includes("\x1b"), "no cursor control off a terminal");

    const again = await nimbus("image", "pull", "busybox");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^pulled docker\.io\/library\/busybox:latest/m, "a present image is answered from the store");

    assert.equal((await nimbus("image", "pull", "busybox-plus")).code, 0);
    const ls = await nimbus("image", "ls", "--json");
    assert.equal(ls.code, 0, ls.stderr);
    const images = ls.json() as Array<{ reference: string; digest: string; layers: unknown[] }>;
    assert.deepEqual(
      images.map((i) => i.reference),
      [PLUS, BUSYBOX],
    );
    assert.ok(!ls.stdout.includes(dataDir), "no host paths");
    const table = await nimbus("image", "ls");
    assert.match(table.stdout, /^REFERENCE\s+DIGEST\s+SIZE\s+LAYERS\s+PULLED\s+PUBLIC$/m);
    assert.match(table.stdout, /^docker\.io\/library\/busybox:latest\s+[0-9a-f]{12}\s+1\.0 MiB\s+1\s+/m);

    const rm = await nimbus("image", "rm", PLUS);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout.trim(), `removed image ${PLUS}`);
    const rmAgain = await nimbus("image", "rm", PLUS);
    assert.equal(rmAgain.code, 1);
    assert.match(rmAgain.stderr, /\(op\.not_found, request req_/);

    const prune = await nimbus("image", "prune", "--json");
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual(
      { ...prune.json(), freedBytes: 0 },
      { removedImages: 1, removedLayers: 2, freedBytes: 0 },
      "busybox (no sandbox uses it) goes, with its layer and plus's top layer",
    );
    assert.ok(prune.json().freedBytes > 1_000_000);
    assert.deepEqual(readdirSync(join(dataDir, "images", "layers")), []);
    const prune2 = await nimbus("image", "prune");
    assert.equal(prune2.stdout.trim(), "removed 0 image(s) and 0 layer(s), freed 0 B");

    const file = join(tmp.root, "busybox.tar");
    archiveFixture(busyboxLayout, "docker-archive", file, "offline/busybox:v2");
    const load = await nimbus("image", "load", file);
    assert.equal(load.code, 0, load.stderr);
    assert.match(
      load.stdout.trim(),
      /^loaded docker\.io\/offline\/busybox:v2 \(sha256:[0-9a-f]{64}, 1 layer, [0-9.]+ MiB\)$/,
      "docker save layers are uncompressed tars",
    );
    assert.deepEqual(
      (await nimbus("image", "ls", "--json")).json().map((i: { reference: string }) => i.reference),
      ["docker.io/offline/busybox:v2"],
    );
    assert.deepEqual(readdirSync(join(dataDir, "images", "tmp")), []);
    const missing = await nimbus("image", "load", join(tmp.root, "nope.tar"));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.tar \(ENOENT\)/);
  } finally {
    await server.stop();
  }
});

test("image commands need the admin token: a tenant key is refused", async () => {
  const server = await serve(join(tmp.root, "data-auth"), registry.url);
  try {
    assert.equal((await nimbus("tenant", "create", "t1")).code, 0);
    const key = (await nimbus("tenant", "key", "create", "t1")).stdout.trim();
    const r = await runNimbus(["image", "ls"], { ...env, NIMBUS_API_KEY: key });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /auth\.forbidden/);
  } finally {
    await server.stop();
  }
});

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

test("a pull interrupted by kill -9 of the server leaves nothing partial; the next start pulls it whole", async () => {
  const dataDir = join(tmp.root, "data-kill");
  const images = join(dataDir, "images");
  slow.throttled = true;
  slow.blobBytes = 0;
  const first = await serve(dataDir, slow.url);
  const pulling = runNimbus(["image", "pull", "busybox"], env);
  const deadline = Date.now() + 20_000;
  // Mid-download: part of the 1 MB layer blob has gone out (and so into the server's temp files).
  while (slow.blobBytes < 256 * 1024) {
    assert.ok(Date.now() < deadline, "the download never got going");
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await first.stop("SIGKILL"), null, "killed, not exited");
  const cut = await pulling;
  assert.equal(cut.code, 1, cut.stdout + cut.stderr);
  assert.match(cut.stderr, /client\.network/);
  assert.ok(readdirSync(join(images, "tmp")).length > 0, "the kill left partial files behind (else this test proves nothing)");
  assert.ok(!existsSync(join(images, "index.json")) || !readFileSync(join(images, "index.json"), "utf8").includes("busybox"));

  slow.throttled = false;
  const second = await serve(dataDir, slow.url);
  try {
    assert.deepEqual(readdirSync(join(images, "tmp")), [], "partial downloads and unpacks are gone after the restart");
    assert.deepEqual(readdirSync(join(images, "layers")), [], "no half-unpacked layer is trusted");
    for (const name of readdirSync(join(images, "blobs", "sha256"))) {
      assert.equal(sha256File(join(images, "blobs", "sha256", name)), name, `blob ${name} matches its digest`);
    }
    const pull = await nimbus("image", "pull", "busybox");
    assert.equal(pull.code, 0, pull.stderr);
    const [img] = (await nimbus("image", "ls", "--json")).json() as Array<{ reference: string; layers: Array<{ diffId: string }> }>;
    assert.equal(img!.reference, BUSYBOX);
    const layerDir = join(images, "layers", img!.layers[0]!.diffId.slice(7));
    assert.deepEqual(diffTrees(describeTree(fixtureRootfs(busyboxLayout)), describeTree(layerDir)), [], "the layer equals its source tree file for file");
    assert.deepEqual(readdirSync(join(images, "tmp")), []);
  } finally {
    await second.stop();
  }
});
