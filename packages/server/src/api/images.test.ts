/**
 * Admin image routes against a real loopback registry (reached through
 * --registry-mirror) and the real runtime for the in-use checks: pull as
 * JSON and as NDJSON progress, 403 for tenant keys, list without host
 * paths, rm refused while a sandbox uses the image, prune of exactly the
 * unreferenced images, and load of a docker-archive tarball.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { archiveFixture, buildBusyboxImage, buildBusyboxPlusImage, buildWhiteoutImage, pushFixture, FIXTURE_TAG } from "../testing/fixtures.js";
import { startRegistry, type TestRegistry } from "../testing/registry.js";
import { startTestServer, type TestServer } from "../testing/server.js";
import { standaloneSandboxBody } from "../testing/sandbox-env.js";
import { rawRequest } from "../testing/raw-http.js";
import { closeCheckingLeftovers } from "../testing/server-leak-check.js";
import { tempDirForFile } from "../testing/temp-dir-for-file.js";

const scratch = tempDirForFile("nimbus-images-api-");
const BUSYBOX = "docker.io/library/busybox:latest";
const PLUS = "docker.io/library/busybox-plus:latest";
const WHITEOUT = "docker.io/library/whiteout:latest";

let registry: TestRegistry;
let srv: TestServer;
let tenantKey = "";
let busyboxLayout = "";

before(async () => {
  registry = await startRegistry();
  busyboxLayout = await buildBusyboxImage();
  pushFixture(registry.backendHost, busyboxLayout, "library/busybox", FIXTURE_TAG);
  pushFixture(registry.backendHost, await buildBusyboxPlusImage(), "library/busybox-plus", FIXTURE_TAG);
  pushFixture(registry.backendHost, await buildWhiteoutImage(), "library/whiteout", FIXTURE_TAG);
  srv = await startTestServer({ flags: { registryMirrors: [`docker.io=${registry.url}`] } });
  assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "alpha" } })).status, 201);
  tenantKey = (await srv.request("POST", "/api/tenants/alpha/api-keys", { body: {} })).body.key;
});

after(async () => {
  await closeCheckingLeftovers(srv, ["alpha"]);
  await registry?.stop();
});

const imagesDir = () => join(srv.root, "data", "images");

function assertNoHostPaths(body: unknown): void {
  const text = JSON.stringify(body);
  assert.ok(!text.includes(srv.root), `a response leaks a host path: ${text.slice(0, 400)}`);
  assert.ok(!text.includes('"dir"'), "layers carry no dir");
}

async function ndjsonPull(reference: string): Promise<{ status: number; contentType: string | null; lines: any[] }> {
  const res = await fetch(`${srv.url}/api/images/pull`, {
    method: "POST",
    headers: { authorization: `Bearer ${srv.token()}`, accept: "application/x-ndjson", "content-type": "application/json" },
    body: JSON.stringify({ reference }),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    lines: text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

async function createSandbox(reference: string): Promise<string> {
  const body = { ...standaloneSandboxBody(reference, "img", { argv: ["sleep", "1000"] }), labels: {} };
  const r = await srv.request("POST", "/api/tenants/alpha/sandboxes", { body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.metadata.id as string;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const g = await srv.request("GET", `/api/tenants/alpha/sandboxes/${id}`);
    if (g.body.status.imageDigest) return id;
    assert.notEqual(g.body.status.lifecycleState, "failed", JSON.stringify(g.body.status));
    assert.ok(Date.now() < deadline, `sandbox ${id} never got its image: ${JSON.stringify(g.body.status)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a tenant API key gets 403 on every image route", async () => {
  const h = { authorization: "", "x-nimbus-api-key": tenantKey };
  for (const [method, path, body] of [
    ["GET", "/api/images", undefined],
    ["POST", "/api/images/pull", { reference: BUSYBOX }],
    ["DELETE", `/api/images/${encodeURIComponent(BUSYBOX)}`, undefined],
    ["POST", "/api/images/prune", {}],
    ["POST", "/api/images/load", undefined],
  ] as const) {
    const r = await srv.request(method, path, { headers: h, ...(body ? { body } : {}) });
    assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "auth.forbidden");
  }
  assert.equal((await srv.request("GET", "/api/images", { headers: { authorization: "" } })).status, 401);
  assert.deepEqual(readdirSync(join(imagesDir(), "layers")), [], "nothing was pulled for the tenant");
});

test("admin pull answers JSON with the image record, without host paths", async () => {
  const r = await srv.request("POST", "/api/images/pull", { body: { reference: "busybox" } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.reference, BUSYBOX);
  assert.match(r.body.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(r.body.layers.length, 1);
  assert.deepEqual(Object.keys(r.body.layers[0]).sort(), ["diffId", "digest", "sizeBytes"]);
  assert.equal(r.body.sizeBytes, r.body.layers[0].sizeBytes);
  assert.deepEqual(r.body.config.cmd, ["sh"]);
  assert.ok(!Number.isNaN(Date.parse(r.body.pulledAt)));
  assertNoHostPaths(r.body);
  assert.ok(existsSync(join(imagesDir(), "layers", r.body.layers[0].diffId.slice(7), "bin", "busybox")), "the layer is unpacked on disk");
});

test("NDJSON pull streams resolved, layer progress and ends with done", async () => {
  const r = await ndjsonPull("busybox-plus");
  assert.equal(r.status, 200);
  assert.match(r.contentType ?? "", /application\/x-ndjson/);
  const kinds = r.lines.map((l) => l.kind);
  assert.equal(kinds[0], "resolved");
  assert.equal(r.lines[0].reference, PLUS);
  assert.equal(r.lines[0].layers, 2);
  assert.equal(kinds.at(-1), "done");
  assert.ok(!kinds.includes("error"));
  const layerLines = r.lines.filter((l) => l.kind === "layer");
  const finished = layerLines.filter((l) => l.done);
  assert.equal(new Set(finished.map((l) => l.digest)).size, 2, "each layer reports its end");
  assert.equal(finished.filter((l) => l.cached).length, 1, "the bottom layer shared with busybox is already present");
  for (const l of finished) assert.equal(l.receivedBytes, l.totalBytes);
  const done = r.lines.at(-1);
  assert.equal(done.image.reference, PLUS);
  assert.equal(done.image.layers.length, 2);
  assertNoHostPaths(r.lines);
});

test("NDJSON pull of an unknown image ends with an error line carrying the envelope", async () => {
  const r = await ndjsonPull("docker.io/library/does-not-exist:1");
  assert.equal(r.status, 200);
  const last = r.lines.at(-1);
  assert.equal(last.kind, "error");
  assert.equal(last.error.code, "op.not_found");
  assert.match(last.error.requestId, /^req_/);
  assert.equal(typeof last.error.retryable, "boolean");
  assert.ok(last.error.message.length > 0);
  const json = await srv.request("POST", "/api/images/pull", { body: { reference: "docker.io/library/does-not-exist:1" } });
  assert.equal(json.status, 404);
  const bad = await srv.request("POST", "/api/images/pull", { body: { reference: "UPPER/Case::bad" } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "op.invalid_input");
});

test("list shows the pulled images, sorted, without host paths", async () => {
  const r = await srv.request("GET", "/api/images");
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.items.map((i: any) => i.reference),
    [PLUS, BUSYBOX],
    "code-point order ('-' < ':')",
  );
  assertNoHostPaths(r.body);
});

test("rm of an image a sandbox uses is 409 op.conflict; after the sandbox is deleted it is 204; unknown is 404", async () => {
  const id = await createSandbox(BUSYBOX);
  const busybox = (await srv.request("GET", "/api/images")).body.items.find((i: any) => i.reference === BUSYBOX);
  for (const ref of [BUSYBOX, "busybox", busybox.digest]) {
    const r = await srv.request("DELETE", `/api/images/${encodeURIComponent(ref)}`);
    assert.equal(r.status, 409, `${ref}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "op.conflict");
  }
  assert.equal((await srv.request("DELETE", `/api/tenants/alpha/sandboxes/${id}`)).status, 204);
  assert.equal((await srv.request("DELETE", `/api/images/${encodeURIComponent(BUSYBOX)}`)).status, 204);
  assert.deepEqual(
    (await srv.request("GET", "/api/images")).body.items.map((i: any) => i.reference),
    [PLUS],
  );
  const again = await srv.request("DELETE", `/api/images/${encodeURIComponent(BUSYBOX)}`);
  assert.equal(again.status, 404);
  assert.equal(again.body.error.code, "op.not_found");
});

test("prune removes exactly the images no sandbox uses, and keeps layers the survivors need", async () => {
  for (const ref of [BUSYBOX, WHITEOUT]) assert.equal((await srv.request("POST", "/api/images/pull", { body: { reference: ref } })).status, 200);
  const byRef = new Map<string, any>(((await srv.request("GET", "/api/images")).body.items as any[]).map((i) => [i.reference, i]));
  const id = await createSandbox(BUSYBOX);
  try {
    const r = await srv.request("POST", "/api/images/prune", { body: {} });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ["freedBytes", "removedImages", "removedLayers"]);
    assert.equal(r.body.removedImages, 2, "busybox-plus and whiteout");
    assert.equal(r.body.removedLayers, 3, "plus's top layer and whiteout's two layers");
    assert.ok(r.body.freedBytes > 0);
    assert.deepEqual(
      (await srv.request("GET", "/api/images")).body.items.map((i: any) => i.reference),
      [BUSYBOX],
    );
    const layers = readdirSync(join(imagesDir(), "layers")).sort();
    assert.deepEqual(layers, [byRef.get(BUSYBOX).layers[0].diffId.slice(7)], "only the in-use image's layer is left (it was shared with busybox-plus)");
    const nothing = await srv.request("POST", "/api/images/prune");
    assert.deepEqual(nothing.body, { removedImages: 0, removedLayers: 0, freedBytes: 0 });
  } finally {
    await srv.request("DELETE", `/api/tenants/alpha/sandboxes/${id}`);
  }
});

test("load takes a docker-archive tarball as the raw body and answers 201 with its images", async () => {
  const file = join(scratch, "busybox-docker.tar");
  archiveFixture(busyboxLayout, "docker-archive", file, "loaded/busybox:v1");
  const res = await fetch(`${srv.url}/api/images/load`, {
    method: "POST",
    headers: { authorization: `Bearer ${srv.token()}`, "content-type": "application/x-tar" },
    body: readFileSync(file),
  });
  const body = (await res.json()) as any;
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.equal(body.items.length, 1);
  assert.equal(body.items[0].reference, "docker.io/loaded/busybox:v1");
  assert.equal(body.items[0].layers.length, 1);
  assertNoHostPaths(body);
  assert.ok(existsSync(join(imagesDir(), "layers", body.items[0].layers[0].diffId.slice(7), "bin", "busybox")));
  assert.ok((await srv.request("GET", "/api/images")).body.items.some((i: any) => i.reference === "docker.io/loaded/busybox:v1"));
  assert.deepEqual(readdirSync(join(imagesDir(), "tmp")), [], "the staged upload is removed");
});

test("load refuses a body that is not an image archive without naming host paths, and an oversized one up front", async () => {
  const garbage = await rawRequest(srv.url, "POST", "/api/images/load", { authorization: `Bearer ${srv.token()}`, "content-length": "11" }, "not a tar\n\n");
  assert.equal(garbage.status, 400, garbage.text);
  assert.equal(garbage.json.error.code, "op.invalid_input");
  assert.ok(!garbage.text.includes(srv.root), garbage.text);
  const empty = await rawRequest(srv.url, "POST", "/api/images/load", { authorization: `Bearer ${srv.token()}`, "content-length": "0" });
  assert.equal(empty.status, 400, empty.text);
  const huge = await rawRequest(srv.url, "POST", "/api/images/load", { authorization: `Bearer ${srv.token()}`, "content-length": String(9 * 1024 ** 3) }, "");
  assert.equal(huge.status, 413, huge.text);
  assert.equal(huge.json.error.code, "op.payload_too_large");
  assert.deepEqual(readdirSync(join(imagesDir(), "tmp")), []);
});
