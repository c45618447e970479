/**
 * Attack test for issue 15 finding 19: published service ports are open to
 * every local user. A local user without a Nimbus credential looks for the
 * TCP listeners the server opened for a running service (every LISTEN socket
 * of this process, found through /proc/net/tcp inodes matched against
 * /proc/self/fd, plus whatever the view's endpoints name) and talks HTTP to
 * each: by default none may answer with the service's content, while the
 * authenticated proxy does. Only a port declared with `publish: "host"`
 * gets a host listener (unauthenticated by design, and reported so). The
 * unix sockets behind the proxy stay in a 0700 dir, each socket 0600.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { BUSYBOX } from "../testing/sandbox-env.js";
import { sandboxEnvForFile } from "../testing/sandbox-env-for-file.js";
import { httpServiceSpec } from "../testing/service-specs.js";

const world = sandboxEnvForFile(["victim"]);

/** TCP ports this process listens on (IPv4 and IPv6), from the kernel's socket tables. */
function ownListeningPorts(): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A" && inodes.has(cols[9] ?? "")) ports.add(parseInt(cols[1]!.split(":").pop()!, 16));
    }
  }
  return ports;
}

/** A plain, credential-less HTTP GET to 127.0.0.1:port; the body, or undefined when nothing answers. */
function plainGet(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", timeout: 2_000 }, (res) => {
      let body = "";
      res
        .on("data", (c) => (body += c))
        .on("end", () => resolve(body))
        .on("error", () => resolve(undefined));
    });
    req.on("error", () => resolve(undefined)).on("timeout", () => req.destroy());
    req.end();
  });
}

function webSpec(marker: string, port: Record<string, unknown>) {
  return httpServiceSpec(BUSYBOX, ["sh", "-c", `mkdir -p /www && echo ${marker} > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait`], port);
}

async function startService(name: string, spec: unknown): Promise<any> {
  const created = await world.env.srv.request("POST", "/api/tenants/victim/services", { body: { metadata: { name }, spec } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await world.env.srv.request("POST", `/api/tenants/victim/services/${name}/start`, { body: {} })).status, 200);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const view = (await world.env.srv.request("GET", `/api/tenants/victim/services/${name}`)).body;
    if (view.readiness === "ready" && view.endpoints.length > 0) return view;
    if (Date.now() > deadline) throw new Error(`service ${name} not ready: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function removeService(name: string): Promise<void> {
  const r = await world.env.srv.request("DELETE", `/api/tenants/victim/services/${name}?ifMatchGeneration=1&force=true`);
  assert.equal(r.status, 204, JSON.stringify(r.body));
}

const proxyGet = async (name: string) => {
  const r = await fetch(`${world.env.srv.url}/api/tenants/victim/services/${name}/proxy/`, { headers: { authorization: `Bearer ${world.env.srv.token()}` } });
  return { status: r.status, text: await r.text() };
};

test("a local user without a credential cannot reach a running service's port on the host; the authenticated proxy can", async () => {
  const baseline = ownListeningPorts();
  const view = await startService("private", webSpec("private-content", {}));
  assert.deepEqual(await proxyGet("private"), { status: 200, text: "private-content\n" }, "the authenticated proxy reaches the service");

  const opened = [...ownListeningPorts()].filter((p) => !baseline.has(p));
  const named = view.endpoints.map((e: any) => e.port).filter((p: unknown) => typeof p === "number");
  for (const port of new Set([...opened, ...named])) {
    assert.notEqual(await plainGet(port), "private-content\n", `127.0.0.1:${port} serves the service to anyone`);
  }
  assert.deepEqual(opened, [], "the server opened no host listener for the service");
  assert.deepEqual(view.endpoints, [{ name: "http", protocol: "http", targetPort: 8080, publish: "proxy" }], "the view names no host port");

  // Without the credential the proxy refuses.
  assert.equal((await fetch(`${world.env.srv.url}/api/tenants/victim/services/private/proxy/`)).status, 401);

  // The sockets behind the proxy are the server user's alone.
  const dir = join(world.env.srv.root, "data", "endpoints");
  assert.equal(statSync(dir).mode & 0o777, 0o700, "the socket dir is 0700");
  for (const n of readdirSync(dir)) assert.equal(statSync(join(dir, n)).mode & 0o077, 0, `${n} is not open to group or others`);
  await removeService("private");
});

test('publish: "host" is the explicit opt-in: it opens one host listener, reported in the view', async () => {
  const baseline = ownListeningPorts();
  const view = await startService("public", webSpec("public-content", { publish: "host" }));
  const opened = [...ownListeningPorts()].filter((p) => !baseline.has(p));
  assert.equal(opened.length, 1, `one listener: ${opened.join(",")}`);
  const ep = view.endpoints[0];
  assert.deepEqual({ ...ep, port: 0 }, { name: "http", protocol: "http", targetPort: 8080, publish: "host", host: "127.0.0.1", port: 0 });
  assert.equal(ep.port, opened[0]);
  assert.equal(await plainGet(ep.port), "public-content\n");
  await removeService("public");
  assert.equal(await plainGet(ep.port), undefined, "the listener is gone with the service's sandbox");
});

test("publish accepts only proxy or host", async () => {
  const r = await world.env.srv.request("POST", "/api/tenants/victim/services", {
    body: { metadata: { name: "odd" }, spec: webSpec("x", { publish: "0.0.0.0" }) },
  });
  assert.equal(r.status, 400);
  assert.match(r.body.error.detail?.field ?? "", /ports\.0\.publish/);
});
