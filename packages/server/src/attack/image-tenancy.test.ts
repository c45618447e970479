/**
 * Attack test for issue 15 finding 18 (the image store is global): with its
 * own API key, tenant bob tries to see and use images other parties pulled —
 * one tenant alice pulled anonymously, and one on an auth-protected registry
 * that the operator (with the docker config's credentials) and alice (with
 * her own stored credentials) pulled. Bob must not list, inspect or delete
 * alice's images, must not get a sandbox from the protected image by
 * reference or by digest (the operator's credentials never serve a tenant),
 * and sees it only once the operator marks it public. The registry password
 * must never come back from any route, nor reach the log or the database in
 * clear. On the old code bob's sandbox from the operator's private image
 * becomes `ready`, and the tenant image and credential routes do not exist.
 *
 * The protected registry is Debian's docker-registry with its htpasswd auth
 * (bcrypt, testing/registry.ts): HTTP Basic for every manifest and blob.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX, standaloneSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { startRegistry, type TestRegistry } from "../testing/registry.js";
import { buildBusyboxPlusImage, pushFixture } from "../testing/fixtures.js";
import { createLogger } from "../log.js";

const USER = "alice-robot";
const PASSWORD = `pw-${randomBytes(16).toString("hex")}`;
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");

let env: SandboxEnv;
let priv: TestRegistry;
let configDir: string;
let privateRef: string;
const savedDockerConfig = process.env.DOCKER_CONFIG;
const keys: Record<string, string> = {};
const logLines: string[] = [];
/** Every response body any request of this file received, as text. */
const answers: string[] = [];

before(async () => {
  priv = await startRegistry({ auth: { scheme: "htpasswd", username: USER, password: PASSWORD } });
  // Not the busybox the mirror serves anonymously: its digest is only on the protected registry.
  pushFixture(priv.backendHost, await buildBusyboxPlusImage(), "team/private", "v1", { creds: { username: USER, password: PASSWORD } });
  privateRef = `${priv.host}/team/private:v1`;
  // The operator's docker config holds valid credentials for the protected registry.
  configDir = mkdtempSync(join(tmpdir(), "h-images-dockercfg-"));
  writeFileSync(join(configDir, "config.json"), JSON.stringify({ auths: { [priv.host]: { auth: BASIC } } }));
  process.env.DOCKER_CONFIG = configDir;
  env = await startSandboxEnv({
    flags: { registryAllow: [priv.host] },
    log: createLogger({ level: "debug", format: "json", write: (l) => logLines.push(l) }),
  });
  for (const t of ["alice", "bob", "carol"]) {
    await env.tenant(t);
    keys[t] = (await env.srv.request("POST", `/api/tenants/${t}/api-keys`, { body: {} })).body.key;
  }
});

after(async () => {
  await env?.close();
  await priv?.stop();
  if (savedDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
  else process.env.DOCKER_CONFIG = savedDockerConfig;
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

async function as(tenant: string | "admin", method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = tenant === "admin" ? {} : { authorization: `Bearer ${keys[tenant]}` };
  const r = await env.srv.request(method, path, { body, headers });
  answers.push(JSON.stringify(r.body ?? null));
  return r;
}

const enc = encodeURIComponent;

/** Creates a sandbox of `tenant` from `reference` and waits for it to settle. */
async function sandboxFrom(tenant: string, reference: string): Promise<{ state: string; status: any }> {
  const r = await as(tenant, "POST", `/api/tenants/${tenant}/sandboxes`, standaloneSandboxBody(reference, "tenancy", { argv: ["sleep", "60"] }));
  if (r.status !== 201) return { state: `http ${r.status}`, status: r.body };
  const id: string = r.body.metadata.id;
  const done = await env.waitFor(tenant, id, ["ready", "failed"], 60_000);
  answers.push(JSON.stringify(done));
  await env.remove(tenant, id);
  return { state: done.status.lifecycleState, status: done.status };
}

test("tenant B cannot list, inspect or delete an image tenant A pulled", async () => {
  const pulled = await as("alice", "POST", "/api/tenants/alice/images/pull", { reference: BUSYBOX });
  assert.equal(pulled.status, 200, JSON.stringify(pulled.body));
  const digest: string = pulled.body.digest;
  const mine = await as("alice", "GET", "/api/tenants/alice/images");
  assert.deepEqual(
    mine.body.items.map((i: any) => i.reference),
    [BUSYBOX],
  );

  const listed = await as("bob", "GET", "/api/tenants/bob/images");
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  assert.equal(JSON.stringify(listed.body).includes(digest), false, "bob's list shows alice's image");
  for (const name of [BUSYBOX, "busybox", digest, `docker.io/library/busybox@${digest}`]) {
    const inspect = await as("bob", "GET", `/api/tenants/bob/images/${enc(name)}`);
    assert.equal(inspect.status, 404, `bob inspected ${name}: ${JSON.stringify(inspect.body)}`);
    assert.equal(JSON.stringify(inspect.body).includes("layers"), false);
    const del = await as("bob", "DELETE", `/api/tenants/bob/images/${enc(name)}`);
    assert.equal(del.status, 404, `bob deleted ${name}: ${JSON.stringify(del.body)}`);
  }
  // Another tenant's path is refused outright (as if that tenant did not exist), and alice still has her image.
  for (const path of ["/api/tenants/alice/images", `/api/tenants/alice/images/${enc(digest)}`]) {
    const r = await as("bob", "GET", path);
    assert.ok(r.status === 403 || r.status === 404, `bob read ${path}: ${r.status}`);
    assert.equal(JSON.stringify(r.body).includes("layers"), false);
  }
  assert.equal((await as("alice", "GET", `/api/tenants/alice/images/${enc(digest)}`)).status, 200);
});

test("an image pulled with credentials is not usable by a tenant without them, even by digest", async () => {
  // The operator pulls the protected image with the docker config's credentials.
  const op = await as("admin", "POST", "/api/images/pull", { reference: privateRef });
  assert.equal(op.status, 200, JSON.stringify(op.body));
  const digest: string = op.body.digest;
  const pinned = `${priv.host}/team/private@${digest}`;

  // Bob names it by reference and by digest: the content is on the host, but never his.
  for (const ref of [privateRef, pinned]) {
    const sb = await sandboxFrom("bob", ref);
    assert.equal(sb.state, "failed", `bob's sandbox from ${ref} became ${sb.state}: ${JSON.stringify(sb.status)}`);
  }
  for (const ref of [privateRef, pinned]) {
    const pull = await as("bob", "POST", "/api/tenants/bob/images/pull", { reference: ref });
    assert.equal(pull.status, 403, `bob pulled ${ref}: ${JSON.stringify(pull.body)}`);
    assert.equal(pull.body.error.code, "auth.forbidden");
  }
  assert.equal((await as("bob", "GET", `/api/tenants/bob/images/${enc(digest)}`)).status, 404);
  assert.equal(JSON.stringify((await as("bob", "GET", "/api/tenants/bob/images")).body).includes(digest), false);

  // Wrong credentials are no better than none.
  const wrong = await as("carol", "PUT", `/api/tenants/carol/registry-credentials/${enc(priv.host)}`, { username: USER, password: "not-it" });
  assert.equal(wrong.status, 201, JSON.stringify(wrong.body));
  assert.equal((await as("carol", "POST", "/api/tenants/carol/images/pull", { reference: pinned })).status, 403);
  assert.equal((await sandboxFrom("carol", pinned)).state, "failed");

  // Alice's own credentials are checked against the registry: she gets it, and a sandbox from it.
  const set = await as("alice", "PUT", `/api/tenants/alice/registry-credentials/${enc(priv.host)}`, { username: USER, password: PASSWORD });
  assert.equal(set.status, 201, JSON.stringify(set.body));
  const pulled = await as("alice", "POST", "/api/tenants/alice/images/pull", { reference: privateRef });
  assert.equal(pulled.status, 200, JSON.stringify(pulled.body));
  assert.equal(pulled.body.digest, digest);
  assert.equal((await sandboxFrom("alice", pinned)).state, "ready");
  // Bob still gets nothing after alice's pull.
  assert.equal((await sandboxFrom("bob", privateRef)).state, "failed");

  // Marked public by the operator, everyone may use it; unmarked, bob is back to nothing.
  assert.equal((await as("bob", "PUT", `/api/images/${enc(privateRef)}/public`)).status, 403);
  const mark = await as("admin", "PUT", `/api/images/${enc(privateRef)}/public`);
  assert.equal(mark.status, 200, JSON.stringify(mark.body));
  const visible = await as("bob", "GET", "/api/tenants/bob/images");
  assert.deepEqual(
    visible.body.items.filter((i: any) => i.digest === digest).map((i: any) => i.public),
    [true],
  );
  assert.equal((await sandboxFrom("bob", privateRef)).state, "ready");
  assert.equal((await as("admin", "DELETE", `/api/images/${enc(privateRef)}/public`)).status, 204);
  assert.equal((await sandboxFrom("bob", privateRef)).state, "failed");
  // Alice's reference survives the mark going; deleting hers leaves the operator's copy.
  assert.equal((await as("alice", "DELETE", `/api/tenants/alice/images/${enc(privateRef)}`)).status, 204);
  const all = (await as("admin", "GET", "/api/images")).body.items.filter((i: any) => i.digest === digest);
  assert.equal(all.length, 1, JSON.stringify(all.map((i: any) => i.reference)));
});

test("registry credentials are never returned by any route, nor logged, nor stored in clear", async () => {
  const set = await as("bob", "PUT", `/api/tenants/bob/registry-credentials/${enc(priv.host)}`, { username: USER, password: PASSWORD });
  assert.ok(set.status === 200 || set.status === 201, JSON.stringify(set.body));
  const again = await as("bob", "PUT", `/api/tenants/bob/registry-credentials/${enc(priv.host)}`, { username: USER, password: PASSWORD });
  assert.equal(again.status, 200);
  const list = await as("bob", "GET", "/api/tenants/bob/registry-credentials");
  assert.deepEqual(
    list.body.items.map((c: any) => Object.keys(c).sort()),
    [["createdAt", "registry", "updatedAt", "username"]],
  );
  // A failing pull and a refused one both go through the log.
  await as("bob", "POST", "/api/tenants/bob/images/pull", { reference: `${priv.host}/team/absent:v1` });
  await as("carol", "POST", "/api/tenants/carol/images/pull", { reference: privateRef });
  await as("bob", "GET", "/openapi.json");
  await as("admin", "GET", "/api/images");
  assert.equal((await as("bob", "DELETE", `/api/tenants/bob/registry-credentials/${enc(priv.host)}`)).status, 204);
  assert.equal((await as("bob", "DELETE", `/api/tenants/bob/registry-credentials/${enc(priv.host)}`)).status, 404);

  assert.ok(answers.length > 20);
  for (const secret of [PASSWORD, BASIC]) {
    assert.equal(
      answers.some((a) => a.includes(secret)),
      false,
      "a response carried the registry password",
    );
    assert.equal(
      logLines.some((l) => l.includes(secret)),
      false,
      "the log carried the registry password",
    );
  }
  const dataDir = join(env.srv.root, "data");
  for (const f of readdirSync(dataDir).filter((n) => n.startsWith("nimbus.db"))) {
    assert.equal(readFileSync(join(dataDir, f)).includes(PASSWORD), false, `${f} holds the password in clear`);
  }
});

test("a tenant's pulls through its pull route count against its maxPulls", async () => {
  const put = await as("admin", "PUT", "/api/tenants/carol/limits", { maxPulls: 0 });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const r = await as("carol", "POST", "/api/tenants/carol/images/pull", { reference: BUSYBOX });
  assert.equal(r.status, 429, JSON.stringify(r.body));
  assert.equal(r.body.error.detail.limitName, "maxPulls");
  // Another tenant is unaffected.
  assert.equal((await as("alice", "POST", "/api/tenants/alice/images/pull", { reference: BUSYBOX })).status, 200);
});
