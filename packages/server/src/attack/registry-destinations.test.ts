/**
 * Attack: issue 15, finding 17 — aiming registry requests inside. A tenant
 * names an image on `127.0.0.1:<port>`, `[::1]:<port>`, `localhost:<port>`,
 * the cloud metadata address `169.254.169.254` or a private `10.0.0.1`, or a
 * registry answers with a token realm on loopback http(s); and a tenant tells
 * a closed port from an open-but-silent one by the error it gets. Each
 * destination must be refused before any connection (the loopback listeners
 * count what they are sent: nothing), and the tenant sees one generic
 * `service.registry_unreachable` message whatever happened; the operator's
 * log has the details. Non-loopback addresses are never dialled, by the
 * test or by the server: they are refused from their literal address.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startTestServer, type TestServer } from "../testing/server.js";
import { freePort } from "../testing/registry.js";
import * as translate from "../domain/translate-errors.js";
import { DestinationPolicy } from "../images/destinations.js";
import { isImageError } from "../images/errors.js";

// Namespace import: the file still loads (and its attacks fail) against code without the constant.
const REGISTRY_UNREACHABLE_MESSAGE = (translate as Record<string, unknown>).REGISTRY_UNREACHABLE_MESSAGE as string;

interface Listener {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A loopback TCP listener that counts connections and never answers (open but silent). */
async function silentListener(host: string): Promise<Listener> {
  const sockets = new Set<Socket>();
  const l: Listener = {
    port: 0,
    connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const server: TcpServer = createTcpServer((s) => {
    l.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  l.port = (server.address() as AddressInfo).port;
  return l;
}

let srv: TestServer;
let v4: Listener;
let v6: Listener | undefined;
let realmTarget: Listener;
let fakeRegistry: HttpServer;
let fakeRegistryHost = "";
let realmScheme = "http";

before(async () => {
  v4 = await silentListener("127.0.0.1");
  v6 = await silentListener("::1").catch(() => undefined);
  realmTarget = await silentListener("127.0.0.1");
  // A registry the operator allowed, whose bearer challenge names a realm on loopback.
  fakeRegistry = createHttpServer((_req, res) => {
    res
      .writeHead(401, {
        "www-authenticate": `Bearer realm="${realmScheme}://127.0.0.1:${realmTarget.port}/token",service="x"`,
        "content-type": "application/json",
      })
      .end("{}");
  });
  await new Promise<void>((r) => fakeRegistry.listen(0, "127.0.0.1", r));
  fakeRegistryHost = `127.0.0.1:${(fakeRegistry.address() as AddressInfo).port}`;
  srv = await startTestServer({ flags: { registryAllow: [fakeRegistryHost] } });
  assert.equal((await srv.request("POST", "/api/tenants", { body: { id: "mallory" } })).status, 201);
});

after(async () => {
  if (srv) {
    await srv.request("DELETE", "/api/tenants/mallory");
    await srv.close();
  }
  fakeRegistry?.closeAllConnections();
  await new Promise((r) => fakeRegistry?.close(r));
  await v4?.close();
  await v6?.close();
  await realmTarget?.close();
});

/** Creates a sandbox from `reference` as the tenant; returns what the tenant learns (the create error, or the failed status). */
async function tenantTries(s: TestServer, reference: string, timeoutMs = 20_000): Promise<{ status?: number; code?: string; message: string }> {
  const body = {
    profile: "worker",
    spec: {
      owner: { kind: "standalone" },
      backend: "container",
      root: { kind: "oci_image", source: { kind: "reference", reference } },
      process: { argv: ["true"] },
    },
  };
  const created = await s.request("POST", "/api/tenants/mallory/sandboxes", { body });
  if (created.status !== 201) return { status: created.status, code: created.body?.error?.code, message: created.body?.error?.message };
  const id = created.body.metadata.id;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const st = (await s.request("GET", `/api/tenants/mallory/sandboxes/${id}`)).body.status;
      if (st.lifecycleState === "failed") {
        assert.equal(st.reason, "pull_failed");
        return { message: st.conditions[0].message };
      }
      if (Date.now() > deadline) throw new Error(`sandbox is still ${st.lifecycleState}: ${JSON.stringify(st)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await s.request("DELETE", `/api/tenants/mallory/sandboxes/${id}`);
  }
}

function assertGenericRefusal(seen: { status?: number; code?: string; message: string }): void {
  if (seen.status !== undefined) {
    // Refused at create: an invalid reference (e.g. an IPv6 literal the grammar does not take), never a 5xx.
    assert.equal(seen.status, 400, JSON.stringify(seen));
    return;
  }
  assert.equal(seen.message, REGISTRY_UNREACHABLE_MESSAGE);
}

test("a sandbox from 127.0.0.1:<port>/x is refused without connecting", async () => {
  assertGenericRefusal(await tenantTries(srv, `127.0.0.1:${v4.port}/x:latest`));
  assert.equal(v4.connections, 0, "the loopback listener saw no connection");
});

test("a sandbox from localhost:<port>/x is refused without connecting", async () => {
  assertGenericRefusal(await tenantTries(srv, `localhost:${v4.port}/x:latest`));
  assert.equal(v4.connections, 0);
});

test("a sandbox from [::1]:<port>/x is refused without connecting", async (t) => {
  if (!v6) return t.skip("no IPv6 loopback on this host");
  assertGenericRefusal(await tenantTries(srv, `[::1]:${v6!.port}/x:latest`));
  assert.equal(v6!.connections, 0);
});

for (const reference of ["169.254.169.254/x:latest", "10.0.0.1/x:latest", "[fd00:ec2::254]/x:latest", "100.64.0.1:5000/x:latest"]) {
  test(`a sandbox from ${reference} is refused from its literal address, quickly (never dialled)`, async () => {
    const t0 = Date.now();
    assertGenericRefusal(await tenantTries(srv, reference));
    assert.ok(Date.now() - t0 < 10_000, "refused before any connection attempt could time out");
  });
}

test("the admin pull of a loopback reference answers 502 service.registry_unreachable", async () => {
  const r = await srv.request("POST", "/api/images/pull", { body: { reference: `127.0.0.1:${v4.port}/x:latest` } });
  assert.equal(r.status, 502, JSON.stringify(r.body));
  assert.equal(r.body.error.code, "service.registry_unreachable");
  assert.equal(r.body.error.message, REGISTRY_UNREACHABLE_MESSAGE);
  assert.equal(v4.connections, 0);
});

for (const scheme of ["http", "https"]) {
  test(`an allowed registry whose token realm is ${scheme}://127.0.0.1 does not get the server to call it`, async () => {
    realmScheme = scheme;
    assertGenericRefusal(await tenantTries(srv, `${fakeRegistryHost}/x:latest`));
    assert.equal(realmTarget.connections, 0, "the realm was never contacted");
  });
}

test("a name that resolves to loopback is refused in the socket's lookup (DNS-rebinding safe)", async () => {
  const policy = new DestinationPolicy({});
  const err = await new Promise<unknown>((resolve) => policy.lookupFor("localhost:1")("localhost", {}, (e) => resolve(e)));
  assert.ok(isImageError(err, "forbidden_destination"), String(err));
  const allowed = new DestinationPolicy({ allow: ["localhost:1"] });
  const addr = await new Promise<unknown>((resolve) => allowed.lookupFor("localhost:1")("localhost", {}, (_e, a) => resolve(a)));
  assert.equal(addr, "127.0.0.1");
});

test("with private registries allowed, a closed port and an open-but-silent one look the same to the tenant", async () => {
  const closedPort = await freePort();
  const silent = await silentListener("127.0.0.1");
  const open = await startTestServer({ flags: { registryAllowPrivate: true, registryTimeoutMs: "300" } });
  try {
    assert.equal((await open.request("POST", "/api/tenants", { body: { id: "mallory" } })).status, 201);
    const closed = await tenantTries(open, `127.0.0.1:${closedPort}/x:latest`, 60_000);
    const hung = await tenantTries(open, `127.0.0.1:${silent.port}/x:latest`, 60_000);
    assert.ok(silent.connections > 0, "this server did dial the silent port (private allowed)");
    assert.equal(closed.message, REGISTRY_UNREACHABLE_MESSAGE);
    assert.equal(hung.message, closed.message, "refused and timed out give the same message");
  } finally {
    await open.request("DELETE", "/api/tenants/mallory");
    await open.close();
    await silent.close();
  }
});
