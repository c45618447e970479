import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Nimbus } from "./client.js";
import { discoverSettings } from "./discovery.js";
import { NimbusConfigError } from "./errors.js";
import { sendJson, startServer } from "./testing/fake-server.js";

const VARS = [
  "XDG_DATA_HOME",
  "NIMBUS_URL",
  "NIMBUS_ENDPOINT",
  "NIMBUS_TOKEN",
  "NIMBUS_BEARER_TOKEN",
  "NIMBUS_API_KEY",
  "NIMBUS_TENANT_ID",
  "NIMBUS_APPLICATION_CREDENTIALS",
  "HOME",
];
let saved: Record<string, string | undefined> = {};
let home = "";

function writeCreds(dir: string, body: unknown): string {
  const file = join(dir, "creds.json");
  writeFileSync(file, JSON.stringify(body));
  return file;
}

beforeEach(() => {
  saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  for (const v of VARS) delete process.env[v];
  home = mkdtempSync(join(tmpdir(), "nimbus-home-"));
  process.env.HOME = home;
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

describe("discoverSettings", () => {
  it("with nothing set, finds a server running on this machine: its recorded address and admin token", () => {
    const dir = join(home, ".local", "share", "nimbus");
    mkdirSync(join(dir, "auth"), { recursive: true });
    writeFileSync(join(dir, "auth", "token"), JSON.stringify({ token: "local-admin" }));
    assert.equal(discoverSettings({}, { HOME: home }).endpoint, undefined, "no server.json: no endpoint");
    writeFileSync(join(dir, "server.json"), JSON.stringify({ pid: 2 ** 22 + 1, address: "http://127.0.0.1:9" }));
    assert.equal(discoverSettings({}, { HOME: home }).endpoint, undefined, "a dead server's record is ignored");
    writeFileSync(join(dir, "server.json"), JSON.stringify({ pid: process.pid, address: "http://127.0.0.1:8123" }));
    const found = discoverSettings({}, { HOME: home });
    assert.deepEqual([found.endpoint, found.credential], ["http://127.0.0.1:8123", { kind: "token", value: "local-admin" }]);
    // XDG_DATA_HOME moves the dir, as it does for the server.
    assert.equal(discoverSettings({}, { HOME: home, XDG_DATA_HOME: join(home, "elsewhere") }).endpoint, undefined);
    // The local admin token never goes to an endpoint set some other way.
    const other = discoverSettings({}, { HOME: home, NIMBUS_URL: "http://remote.example:8080" });
    assert.deepEqual([other.endpoint, other.credential], ["http://remote.example:8080", undefined]);
  });

  it("takes each setting from options, then env, then the file", () => {
    const file = writeCreds(home, { endpoint: "http://file:1", token: "file-token", tenantId: "file-t" });
    const env = { NIMBUS_APPLICATION_CREDENTIALS: file, NIMBUS_ENDPOINT: "http://env:2", NIMBUS_TOKEN: "env-token", NIMBUS_TENANT_ID: "env-t" };
    const all = discoverSettings({ endpoint: "http://opt:3", token: "opt-token", tenantId: "opt-t" }, env);
    assert.deepEqual([all.endpoint, all.credential, all.tenantId], ["http://opt:3", { kind: "token", value: "opt-token" }, "opt-t"]);
    const envOnly = discoverSettings({}, env);
    assert.deepEqual([envOnly.endpoint, envOnly.credential?.value, envOnly.tenantId], ["http://env:2", "env-token", "env-t"]);
    const fileOnly = discoverSettings({}, { NIMBUS_APPLICATION_CREDENTIALS: file });
    assert.deepEqual([fileOnly.endpoint, fileOnly.credential?.value, fileOnly.tenantId], ["http://file:1", "file-token", "file-t"]);
    const mixed = discoverSettings({ tenantId: "opt-t" }, { NIMBUS_APPLICATION_CREDENTIALS: file, NIMBUS_API_KEY: "env-key" });
    assert.deepEqual([mixed.endpoint, mixed.credential, mixed.tenantId], ["http://file:1", { kind: "apiKey", value: "env-key" }, "opt-t"]);
  });

  it("prefers NIMBUS_TOKEN, then NIMBUS_BEARER_TOKEN, then NIMBUS_API_KEY", () => {
    const env = { NIMBUS_TOKEN: "a", NIMBUS_BEARER_TOKEN: "b", NIMBUS_API_KEY: "c" };
    assert.equal(discoverSettings({}, env).credential?.value, "a");
    assert.equal(discoverSettings({}, { ...env, NIMBUS_TOKEN: undefined }).credential?.value, "b");
    assert.deepEqual(discoverSettings({}, { NIMBUS_API_KEY: "c" }).credential, { kind: "apiKey", value: "c" });
  });

  it("reads the default file under ~/.config/nimbus", () => {
    mkdirSync(join(home, ".config", "nimbus"), { recursive: true });
    writeFileSync(join(home, ".config", "nimbus", "application_default_credentials.json"), JSON.stringify({ apiKey: "k", endpoint: "http://h:9/" }));
    const found = discoverSettings({}, process.env);
    assert.deepEqual([found.endpoint, found.credential], ["http://h:9", { kind: "apiKey", value: "k" }]);
  });

  it("reports a named file that is missing or malformed, but not a missing default file", () => {
    assert.deepEqual(discoverSettings({}, process.env).problems, []);
    assert.match(discoverSettings({}, { NIMBUS_APPLICATION_CREDENTIALS: join(home, "nope.json") }).problems[0] ?? "", /nope\.json/);
    writeFileSync(join(home, "bad.json"), "{not json");
    assert.match(discoverSettings({}, { NIMBUS_APPLICATION_CREDENTIALS: join(home, "bad.json") }).problems[0] ?? "", /not a JSON object/);
  });
});

describe("Nimbus discovery at the first request", () => {
  it("never throws in the constructor; the first request names what to set", async () => {
    const nimbus = new Nimbus();
    await assert.rejects(nimbus.tenants.list(), (e: unknown) => {
      assert.ok(e instanceof NimbusConfigError);
      assert.equal(e.code, "client.config");
      assert.match(e.message, /`endpoint`/);
      assert.match(e.message, /NIMBUS_ENDPOINT/);
      return true;
    });
    const noCred = new Nimbus({ endpoint: "http://127.0.0.1:1" });
    await assert.rejects(noCred.tenants.list(), /`token` or `apiKey`.*NIMBUS_TOKEN, NIMBUS_BEARER_TOKEN or NIMBUS_API_KEY/s);
    const noTenant = new Nimbus({ endpoint: "http://127.0.0.1:1", token: "t" });
    await assert.rejects(
      noTenant.sandboxes.get({ id: "x" }),
      (e: unknown) => e instanceof NimbusConfigError && /`tenantId`.*NIMBUS_TENANT_ID/s.test(e.message),
    );
  });

  it("sends what each source provides", async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, { tenants: ["demo"] }));
    try {
      process.env.NIMBUS_ENDPOINT = srv.url;
      process.env.NIMBUS_TOKEN = "env-token";
      assert.deepEqual(await new Nimbus().tenants.list(), ["demo"]);
      assert.equal(srv.requests[0]?.headers.authorization, "Bearer env-token");

      await new Nimbus({ token: "opt-token" }).tenants.list();
      assert.equal(srv.requests[1]?.headers.authorization, "Bearer opt-token");

      delete process.env.NIMBUS_ENDPOINT;
      delete process.env.NIMBUS_TOKEN;
      process.env.NIMBUS_APPLICATION_CREDENTIALS = writeCreds(home, { endpoint: srv.url, apiKey: "file-key" });
      await new Nimbus().tenants.list();
      assert.equal(srv.requests[2]?.headers["x-nimbus-api-key"], "file-key");
      assert.equal(srv.requests[2]?.headers.authorization, undefined);
    } finally {
      await srv.close();
    }
  });
});
