/**
 * TenantImages and RegistryCredentials on a real SQLite database, with a
 * stand-in for the image store's pull (the registry side is covered by
 * attack/image-tenancy.test.ts): which spellings name a tenant's image,
 * what another tenant and public marks see, that a tenant pull presents the
 * tenant's own credentials (never the operator's) under its own scope, and
 * that a dropped reference leaves the content to others.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../store/db.js";
import { TenantStore } from "../store/tenant-store.js";
import { ImageRefStore } from "../store/image-ref-store.js";
import { RegistryCredentialStore } from "../store/registry-credential-store.js";
import { SecretBox } from "../host/secret-box.js";
import type { ImageRecord, PullOptions } from "../images/index.js";
import { RegistryCredentials, registryHost } from "./registry-credentials.js";
import { TenantImages } from "./tenant-images.js";
import { AppError } from "./errors.js";

const dir = mkdtempSync(join(tmpdir(), "h-images-unit-"));
const db = openDatabase(join(dir, "data"));
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
for (const t of ["a", "b"]) new TenantStore(db).insert(t, new Date().toISOString());

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REF = "registry.test/team/app:v1";
const record: ImageRecord = {
  reference: REF,
  digest: DIGEST,
  config: { entrypoint: null, cmd: null, env: [], workingDir: "", user: "", exposedPorts: [], labels: {} },
  layers: [],
  sizeBytes: 0,
  pulledAt: new Date().toISOString(),
};
const pulls: PullOptions[] = [];
const store = {
  stored: new Map<string, ImageRecord>(),
  async pull(_ref: string, opts: PullOptions = {}) {
    pulls.push(opts);
    this.stored.set(REF, record);
    return record;
  },
  resolveLocal(q: string) {
    return [...this.stored.values()].find((r) => r.reference === q || r.digest === q);
  },
  hasContent: () => true,
  list() {
    return [...this.stored.values()];
  },
};
const credentials = new RegistryCredentials({ store: new RegistryCredentialStore(db), box: SecretBox.withKey(randomBytes(32)) });
const images = new TenantImages({ images: store, refs: new ImageRefStore(db), credentials });

const notFound = (err: unknown) => err instanceof AppError && err.code === "op.not_found";

test("a tenant pull presents that tenant's credentials under its own scope, and makes its reference", async () => {
  credentials.set("a", "Registry.Test", { username: "u", password: "p" });
  await images.pull("a", REF);
  const auth = pulls.at(-1)!.auth!;
  assert.match(auth.scope, /^tenant:a:/);
  assert.deepEqual(auth.credentials("registry.test"), { username: "u", password: "p" });
  assert.equal(auth.credentials("other.test"), undefined);
  assert.equal(pulls.at(-1)!.policy, "always");
  // Tenant b has no credentials: its pull goes anonymous, under another scope.
  await images.pull("b", REF).catch(() => undefined);
  assert.notEqual(pulls.at(-1)!.auth!.scope, auth.scope);
  assert.equal(pulls.at(-1)!.auth!.credentials("registry.test"), undefined);
  images.remove("b", REF);
});

test("every spelling names the tenant's own image, and none names another tenant's", () => {
  for (const q of [REF, DIGEST, `registry.test/team/app@${DIGEST}`]) {
    assert.equal(images.get("a", q).record.digest, DIGEST, q);
    assert.throws(() => images.get("b", q), notFound, q);
    assert.equal(images.present("b", q), undefined, q);
  }
  assert.equal(images.present("a", `registry.test/team/app@${DIGEST}`)?.digest, DIGEST);
  assert.throws(() => images.get("a", `registry.test/team/other@${DIGEST}`), notFound);
  assert.throws(() => images.remove("b", REF), notFound);
});

test("a public mark shows the image to every tenant; dropping a reference keeps it for others", () => {
  images.markPublic(REF);
  assert.deepEqual(
    images.list("b").map((i) => [i.record.reference, i.public]),
    [[REF, true]],
  );
  images.remove("a", REF);
  assert.throws(() => images.remove("a", REF), notFound);
  assert.equal(images.present("a", REF)?.digest, DIGEST, "public still");
  assert.ok(images.digestsInUse().has(DIGEST));
  images.unmarkPublic(REF);
  assert.equal(images.present("b", REF), undefined);
  assert.equal(images.digestsInUse().has(DIGEST), false);
});

test("registry hosts are folded to one spelling; bad ones are a 400", () => {
  assert.equal(registryHost("Index.Docker.IO"), "docker.io");
  assert.equal(registryHost("registry-1.docker.io"), "docker.io");
  assert.equal(registryHost("ghcr.io:443"), "ghcr.io:443");
  for (const bad of ["", "a/b", "https://ghcr.io", "x y"])
    assert.throws(
      () => registryHost(bad),
      (e: unknown) => e instanceof AppError && e.code === "op.invalid_input",
    );
});
