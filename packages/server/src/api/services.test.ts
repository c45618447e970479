/**
 * Acceptance (Services #1, #2, #3, #5) on real crun + conmon: the SDK's
 * definition flow with generations, supervision (on_failure replaces a
 * killed sandbox under the same name, never ends failed with the exit
 * code), endpoints (proxy-only by default, `publish: "host"` on the host's
 * loopback) and the name-based proxy while
 * the sandbox itself has no egress, sessions on a service and force
 * delete. The environment's close() checks nothing was left on the host,
 * and no port forwarder outlives its sandbox.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { Nimbus, NimbusConflictError, NimbusPreconditionError } from "@nimbus/nimbus";
import { startSandboxEnv, standaloneSandboxBody, BUSYBOX, type SandboxEnv } from "../testing/sandbox-env.js";
import { httpServiceSpec, sandboxServiceSpec } from "../testing/service-specs.js";
import { listenHostSecret, type HostSecretListener } from "../testing/host-secret-listener.js";
import { forwarderPids } from "../runtime/container/port-forward.js";
import { until } from "../testing/until.js";

let env: SandboxEnv;
let hostListener: HostSecretListener | undefined;
let socketDir = "";

/** A non-loopback address of this host: what a sandbox with egress could reach. */
function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "192.0.2.1";
}

before(async () => {
  env = await startSandboxEnv();
  await env.tenant("svc");
  socketDir = join(env.srv.root, "data", "endpoints");
  hostListener = await listenHostSecret("0.0.0.0");
});
after(async () => {
  hostListener?.close();
  await env?.close();
  assert.deepEqual(forwarderPids(socketDir), [], "no port forwarder outlives the server");
});

const client = () => new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: "svc" });

/** busybox httpd serving /www on 8080, after running `setup` (sh) to fill it. */
function httpSpec(setup = "echo hello > /www/index.html", extra: Record<string, unknown> = {}) {
  return { ...httpServiceSpec(BUSYBOX, ["sh", "-c", `mkdir -p /www && ${setup}; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait`]), ...extra };
}

/** PID 1 ignores SIGTERM without a handler; this one exits on it, so stops are quick. */
const FOREVER = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"];

const sleeperSpec = (argv: string[], extra: Record<string, unknown> = {}) => sandboxServiceSpec(BUSYBOX, argv, extra);

async function proxyGet(name: string, path = "/") {
  const r = await fetch(`${env.srv.url}/api/tenants/svc/services/${name}/proxy${path}`, { headers: { authorization: `Bearer ${env.srv.token()}` } });
  return { status: r.status, text: await r.text() };
}

async function noForwarders(): Promise<void> {
  await until(
    "forwarders to exit",
    async () => forwarderPids(socketDir),
    (p) => p.length === 0,
    3_000,
  );
}

test("the SDK flow: create gen 1, start and wait ready, stale update 412, running update 409, stop, update gen 2, delete", async () => {
  const nimbus = client();
  const spec = sleeperSpec(FOREVER, { restartPolicy: "on_failure" });
  const def = await nimbus.services.create({ metadata: { name: "worker", labels: { team: "a" } }, spec });
  assert.equal(def.metadata.generation, 1);
  assert.equal(def.metadata.name, "worker");
  assert.deepEqual(def.metadata.labels, { team: "a" });
  assert.equal(def.metadata.source, "dynamic", "an API-created definition is dynamic (upstream's wire)");
  assert.deepEqual(
    def.status.conditions.map((c) => [c.type, c.status, c.observedGeneration]),
    [
      ["Accepted", "True", 1],
      ["Ready", "False", 1],
    ],
  );
  await assert.rejects(
    nimbus.services.create({ metadata: { name: "worker" }, spec }),
    (e: unknown) => e instanceof NimbusConflictError && e.code === "op.already_exists",
  );

  const stoppedView = await nimbus.services.get({ name: "worker" });
  assert.equal(stoppedView.state, "stopped");
  const ready = await nimbus.services.start({ name: "worker", waitUntil: "ready", timeoutMs: 30_000 });
  assert.equal(ready.lifecycleState, "ready");
  assert.equal(ready.readiness, "ready");
  assert.equal(ready.health, "healthy");
  assert.equal(ready.restartCount, 0);
  assert.match(ready.sandboxId ?? "", /^worker-[0-9a-z]{26}$/);
  const sandbox = (await env.srv.request("GET", `/api/tenants/svc/sandboxes/${ready.sandboxId}`)).body;
  assert.equal(sandbox.spec.sandbox.owner.kind, "service");
  assert.equal(sandbox.status.lifecycleState, "ready");
  const again = await nimbus.services.start({ name: "worker" });
  assert.equal(again.sandboxId, ready.sandboxId, "start of a running service launches nothing");

  await assert.rejects(nimbus.services.update({ metadata: { name: "worker", generation: 7 }, spec }), NimbusPreconditionError);
  await assert.rejects(
    nimbus.services.update({ metadata: { name: "worker", generation: 1 }, spec }),
    (e: unknown) => e instanceof NimbusConflictError && /stop the service before updating its definition/.test(e.message),
  );

  const stopped = await nimbus.services.stop({ name: "worker" });
  assert.equal(stopped.state, "stopped");
  assert.equal(stopped.lifecycleState, "stopped");
  assert.equal((await env.srv.request("GET", `/api/tenants/svc/sandboxes/${ready.sandboxId}`)).body.status.lifecycleState, "stopped");

  const def2 = await nimbus.services.update({ metadata: { name: "worker", generation: 1 }, spec: sleeperSpec(["sh", "-c", "sleep 2000"]) });
  assert.equal(def2.metadata.generation, 2);
  assert.deepEqual((def2.spec.backend as any).sandbox.process.argv, { redacted: true, valueCount: 3 }, "launch inputs are never echoed");

  await assert.rejects(nimbus.services.delete({ name: "worker", ifMatchGeneration: 1 }), NimbusPreconditionError);
  await nimbus.services.delete({ name: "worker", ifMatchGeneration: 2 });
  assert.equal((await env.srv.request("GET", "/api/tenants/svc/services/worker")).status, 404);
  assert.equal((await env.srv.request("GET", `/api/tenants/svc/sandboxes/${ready.sandboxId}`)).status, 404, "the stopped sandbox went with the service");
});

test("an HTTP service is reachable through its endpoint and the proxy, while the sandbox has no egress", async () => {
  const nimbus = client();
  const probe = `nc -w 2 ${hostAddress()} ${hostListener!.port} </dev/null >/www/egress.txt 2>&1; echo rc=$? >>/www/egress.txt`;
  await nimbus.services.create({ metadata: { name: "web" }, spec: httpSpec(`echo hello > /www/index.html; ${probe}`) });
  const view = await nimbus.services.start({ name: "web", waitUntil: "ready", timeoutMs: 30_000 });
  assert.equal(view.endpoints.length, 1, JSON.stringify(view));
  const ep = view.endpoints[0]!;
  assert.deepEqual(ep, { name: "http", protocol: "http", targetPort: 8080, publish: "proxy" }, "by default nothing listens on the host: no host, no port");
  const proxied = await proxyGet("web", "/index.html");
  assert.deepEqual(proxied, { status: 200, text: "hello\n" });
  assert.equal((await proxyGet("web", "/missing")).status, 404, "the service's own answer comes back");

  const egress = (await proxyGet("web", "/egress.txt")).text;
  assert.doesNotMatch(egress, /host-secret/, egress);
  assert.match(egress, /rc=1/, egress);

  const sandbox = (await env.srv.request("GET", `/api/tenants/svc/sandboxes/${view.sandboxId}`)).body;
  assert.deepEqual(sandbox.status.endpoints, view.endpoints, "the sandbox reports the same endpoints");

  // No credential → 401; the proxy never forwards the caller's Nimbus credential.
  assert.equal((await fetch(`${env.srv.url}/api/tenants/svc/services/web/proxy/`)).status, 401);

  await nimbus.services.stop({ name: "web" });
  const down = await proxyGet("web", "/index.html");
  assert.equal(down.status, 503);
  assert.equal(JSON.parse(down.text).error.code, "service.unavailable");
  await noForwarders();
  await nimbus.services.delete({ name: "web", ifMatchGeneration: 1 });
});

test("on_failure: a killed backing process is replaced under the same name; the proxy keeps answering", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "phoenix" }, spec: httpSpec(undefined, { restartPolicy: "on_failure" }) });
  const first = await nimbus.services.start({ name: "phoenix", waitUntil: "ready", timeoutMs: 30_000 });
  assert.equal((await proxyGet("phoenix", "/")).status, 200);
  const state = await env.srv.server.parts.runtime.state(first.sandboxId!);
  assert.ok(state?.pid, "the backing container has a pid");
  process.kill(state.pid, "SIGKILL");

  const second = await until(
    "the replacement",
    () => nimbus.services.get({ name: "phoenix" }),
    (v) => v.sandboxId !== first.sandboxId && v.lifecycleState === "ready",
  );
  assert.equal(second.restartCount, 1);
  assert.notEqual(second.sandboxId, first.sandboxId);
  assert.deepEqual(await proxyGet("phoenix", "/"), { status: 200, text: "hello\n" });
  assert.equal((await env.srv.request("GET", `/api/tenants/svc/sandboxes/${first.sandboxId}`)).status, 404, "the replaced sandbox was removed");
  await nimbus.services.delete({ name: "phoenix", ifMatchGeneration: 1, force: true });
});

test("never: the service ends failed with the exit code", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "once" }, spec: sleeperSpec(["sh", "-c", "sleep 1; exit 3"], { restartPolicy: "never" }) });
  await nimbus.services.start({ name: "once", waitUntil: "ready", timeoutMs: 30_000 });
  await assert.rejects(
    nimbus.services.wait({ name: "once", until: "stopped", timeoutMs: 30_000 }),
    (e: unknown) => e instanceof NimbusConflictError && e.detail?.lifecycleState === "failed",
  );
  const view = (await env.srv.request("GET", "/api/tenants/svc/services/once")).body;
  assert.equal(view.state, "failed");
  assert.equal(view.exitCode, 3);
  assert.equal(view.restartCount, 0);
  assert.match(view.message, /restartPolicy never/);
  await nimbus.services.delete({ name: "once", ifMatchGeneration: 1 });
});

test("on_failure gives up after maxRestarts; always restarts a clean exit", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "flaky" }, spec: sleeperSpec(["sh", "-c", "exit 2"], { restartPolicy: "on_failure", maxRestarts: 2 }) });
  await nimbus.services.start({ name: "flaky" });
  const failed = await until(
    "flaky to give up",
    () => nimbus.services.get({ name: "flaky" }),
    (v) => v.state === "failed",
  );
  assert.equal(failed.restartCount, 2);
  assert.match((failed as any).message, /gave up after 2 restarts/);
  await nimbus.services.delete({ name: "flaky", ifMatchGeneration: 1 });

  await nimbus.services.create({ metadata: { name: "cron" }, spec: sleeperSpec(["sh", "-c", "sleep 0.2"], { restartPolicy: "always", maxRestarts: 1 }) });
  await nimbus.services.start({ name: "cron" });
  const done = await until(
    "cron to finish",
    () => nimbus.services.get({ name: "cron" }),
    (v) => v.restartCount === 1 && v.state === "stopped",
  );
  assert.equal(done.exitCode, 0);
  await nimbus.services.delete({ name: "cron", ifMatchGeneration: 1 });
});

test("sessions on a service: attach to its sandbox; delete with open sessions is 409, force closes them and removes the sandbox", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "held" }, spec: sleeperSpec(FOREVER) });
  const view = await nimbus.services.start({ name: "held", waitUntil: "ready", timeoutMs: 30_000 });
  const session = await nimbus.sessions.open({ target: { service: { name: "held" } }, channels: ["stdio"] });
  assert.deepEqual(
    session.spec.targetSnapshot,
    { service: { name: "held", generation: 1, backend: "sandbox", sandboxId: view.sandboxId } },
    "the service's backend kind, not the runtime's name",
  );
  await nimbus.services.stop({ name: "held" });
  await nimbus.services.start({ name: "held", waitUntil: "ready", timeoutMs: 30_000 });
  const current = await nimbus.services.get({ name: "held" });
  const second = await nimbus.sessions.open({ target: { service: { name: "held" } }, channels: ["stdio"] });
  assert.equal((second.spec.targetSnapshot as any).service.sandboxId, current.sandboxId);

  const refused = await env.srv.request("DELETE", "/api/tenants/svc/services/held?ifMatchGeneration=1");
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, "op.conflict");
  assert.equal(refused.body.error.detail.openSessions, 1);

  await nimbus.services.delete({ name: "held", ifMatchGeneration: 1, force: true });
  const closed = await nimbus.sessions.get({ id: second.metadata.id });
  assert.equal(closed.status.lifecycleState, "closed");
  assert.equal(closed.status.closeReason, "service_force_deleted");
  assert.equal((await env.srv.request("GET", `/api/tenants/svc/sandboxes/${current.sandboxId}`)).status, 404, "the sandbox is gone");
  assert.equal((await env.srv.request("GET", "/api/tenants/svc/services/held")).status, 404);
});

test("a running service without sessions also needs force; builtIn and external are declared only", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "busy" }, spec: sleeperSpec(FOREVER) });
  const view = await nimbus.services.start({ name: "busy", waitUntil: "ready", timeoutMs: 30_000 });
  assert.equal((await env.srv.request("DELETE", "/api/tenants/svc/services/busy?ifMatchGeneration=1")).status, 409);
  assert.equal((await env.srv.request("DELETE", "/api/tenants/svc/services/busy?ifMatchGeneration=1&force=true")).status, 204);
  assert.equal((await env.srv.request("GET", `/api/tenants/svc/sandboxes/${view.sandboxId}`)).status, 404);

  for (const kind of ["builtIn", "external"]) {
    const name = `decl-${kind.toLowerCase()}`;
    const created = await env.srv.request("POST", "/api/tenants/svc/services", {
      body: { metadata: { name }, spec: { backend: { kind, url: "https://example.invalid" } } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const got = (await env.srv.request("GET", `/api/tenants/svc/services/${name}`)).body;
    assert.equal(got.state, "declared");
    assert.equal(got.lifecycleState, "declared");
    assert.equal((await env.srv.request("POST", `/api/tenants/svc/services/${name}/start`, { body: {} })).status, 409);
    assert.equal((await proxyGet(name)).status, 503);
  }
  const list = (await env.srv.request("GET", "/api/tenants/svc/services?limit=1")).body;
  assert.equal(list.items.length, 1);
  assert.equal(list.items[0].name, "decl-builtin");
  assert.equal(list.metadata.nextPageToken, "decl-builtin");
  const rest = (await env.srv.request("GET", "/api/tenants/svc/services?pageToken=decl-builtin")).body;
  assert.deepEqual(
    rest.items.map((i: any) => i.name),
    ["decl-external"],
  );
  for (const name of ["decl-builtin", "decl-external"])
    assert.equal((await env.srv.request("DELETE", `/api/tenants/svc/services/${name}?ifMatchGeneration=1`)).status, 204);
});

test("definitions are validated at the edge", async () => {
  const post = (body: unknown) => env.srv.request("POST", "/api/tenants/svc/services", { body });
  const ok = httpSpec();
  const cases: Array<[string, unknown, string]> = [
    ["bad name", { metadata: { name: "Bad_Name" }, spec: ok }, "metadata.name"],
    [
      "standalone owner",
      { metadata: { name: "x" }, spec: { ...ok, backend: { kind: "sandbox", sandbox: { ...ok.backend.sandbox, owner: { kind: "standalone" } } } } },
      "spec.owner.kind",
    ],
    ["unknown kind", { metadata: { name: "x" }, spec: { backend: { kind: "lambda" } } }, "spec.backend.kind"],
    ["missing sandbox", { metadata: { name: "x" }, spec: { backend: { kind: "sandbox" } } }, "spec.backend.sandbox"],
    ["bad policy", { metadata: { name: "x" }, spec: { ...ok, restartPolicy: "sometimes" } }, "spec.restartPolicy"],
    [
      "probe on undeclared port",
      { metadata: { name: "x" }, spec: { ...ok, readinessProbe: { http: { path: "/", port: 9999 } } } },
      "spec.readinessProbe.http.port",
    ],
    [
      "two probes",
      { metadata: { name: "x" }, spec: { ...ok, readinessProbe: { http: { path: "/", port: 8080 }, tcp: { port: 8080 } } } },
      "spec.readinessProbe",
    ],
    ["unknown field", { metadata: { name: "x" }, spec: { ...ok, replicas: 3 } }, "spec.replicas"],
  ];
  for (const [what, body, field] of cases) {
    const r = await post(body);
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "op.invalid_input");
    assert.ok(
      String(r.body.error.detail?.field ?? "").startsWith(field.replace(/^spec\.owner/, "spec.owner")) || r.body.error.detail?.field === field,
      `${what}: ${JSON.stringify(r.body.error)}`,
    );
  }
  assert.equal((await env.srv.request("PUT", "/api/tenants/svc/services/nope", { body: { metadata: { name: "nope", generation: 1 }, spec: ok } })).status, 404);
  assert.equal((await env.srv.request("DELETE", "/api/tenants/svc/services/nope")).status, 400, "ifMatchGeneration is required");
  assert.equal((await proxyGet("nope")).status, 404);
});

test("a standalone sandbox publishes its declared ports too, and takes them down when it stops", async () => {
  const body = standaloneSandboxBody(
    BUSYBOX,
    "site",
    { argv: ["sh", "-c", "mkdir -p /www && echo standalone > /www/index.html && exec httpd -f -p 8080 -h /www"] },
    { ports: [{ port: 8080, publish: "host" }] },
  );
  const created = (await env.srv.request("POST", "/api/tenants/svc/sandboxes", { body })).body;
  const id = created.metadata.id;
  const withEndpoint = await until(
    "endpoints",
    async () => (await env.srv.request("GET", `/api/tenants/svc/sandboxes/${id}`)).body,
    (b) => b.status.endpoints.length === 1,
  );
  const ep = withEndpoint.status.endpoints[0];
  assert.equal(ep.name, "port-8080");
  assert.equal(ep.publish, "host");
  assert.equal(ep.targetPort, 8080);
  assert.equal(ep.host, "127.0.0.1");
  const text = await until(
    "httpd",
    async () =>
      fetch(`http://127.0.0.1:${ep.port}/`)
        .then((r) => r.text())
        .catch(() => ""),
    (t) => t.length > 0,
  );
  assert.equal(text, "standalone\n");
  const stopped = (await env.srv.request("POST", `/api/tenants/svc/sandboxes/${id}/stop`, { body: { gracePeriodMs: 500 } })).body;
  assert.deepEqual(stopped.status.endpoints, []);
  await assert.rejects(fetch(`http://127.0.0.1:${ep.port}/`), "the host listener is gone with the sandbox");
  await noForwarders();
  await env.srv.request("DELETE", `/api/tenants/svc/sandboxes/${id}`);
});

test("readiness: a service is ready only once its probe passes, and health follows the probe afterwards", async () => {
  const nimbus = client();
  // The server comes up 1.5 s after the sandbox starts; 1.5 s after that its page goes away (404).
  const setup = "echo late > /www/index.html; (sleep 3; rm /www/index.html) & sleep 1.5";
  await nimbus.services.create({
    metadata: { name: "slow" },
    spec: httpSpec(setup, { readinessProbe: { http: { path: "/", port: 8080 }, periodMs: 200, failureThreshold: 2 } }),
  });
  const started = await nimbus.services.start({ name: "slow" });
  const sandboxReady = await until(
    "the sandbox",
    async () => (await env.srv.request("GET", `/api/tenants/svc/sandboxes/${started.sandboxId}`)).body,
    (b) => b.status.lifecycleState === "ready",
  );
  assert.equal(sandboxReady.status.lifecycleState, "ready");
  const gated = await nimbus.services.get({ name: "slow" });
  assert.equal(gated.lifecycleState, "starting", "the sandbox runs but the probe has not passed");
  assert.equal(gated.readiness, "not_ready");
  assert.equal((await proxyGet("slow")).status, 503);

  const ready = await nimbus.services.wait({ name: "slow", until: "ready", timeoutMs: 30_000 });
  assert.equal(ready.health, "healthy");
  assert.equal((await proxyGet("slow")).text, "late\n");
  const sick = await until(
    "health to turn",
    () => nimbus.services.get({ name: "slow" }),
    (v) => v.health === "unhealthy",
    10_000,
  );
  assert.equal(sick.lifecycleState, "ready", "a failing probe after ready shows in health, not as a restart");
  assert.equal(sick.restartCount, 0);
  await nimbus.services.delete({ name: "slow", ifMatchGeneration: 1, force: true });
});

test("stop and restart: restart replaces the sandbox under the same name", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "again" }, spec: httpSpec() });
  const first = await nimbus.services.start({ name: "again", waitUntil: "ready", timeoutMs: 30_000 });
  const second = await nimbus.services.restart({ name: "again", waitUntil: "ready", timeoutMs: 30_000 });
  assert.notEqual(second.sandboxId, first.sandboxId);
  assert.equal(second.restartCount, 0, "a requested restart is not a supervisor restart");
  assert.equal((await proxyGet("again")).text, "hello\n");
  assert.equal((await env.srv.request("GET", `/api/tenants/svc/sandboxes/${first.sandboxId}`)).status, 404);
  const stopped = await nimbus.services.stop({ name: "again", gracePeriodMs: 1_000 });
  assert.equal(stopped.state, "stopped");
  assert.deepEqual(stopped.endpoints, []);
  assert.equal((await nimbus.services.stop({ name: "again" })).state, "stopped", "stop is idempotent");
  await nimbus.services.delete({ name: "again", ifMatchGeneration: 1 });
});

test("restart takes upstream's {sourceGeneration, requestId}: 412 when stale, one restart and one receipt per requestId", async () => {
  const nimbus = client();
  await nimbus.services.create({ metadata: { name: "twice" }, spec: httpSpec() });
  const first = await nimbus.services.start({ name: "twice", waitUntil: "ready", timeoutMs: 30_000 });
  const restart = (body: unknown) => env.srv.request("POST", "/api/tenants/svc/services/twice/restart", { body });

  const stale = await restart({ sourceGeneration: 2, requestId: "r-1" });
  assert.equal(stale.status, 412, JSON.stringify(stale.body));
  assert.equal(stale.body.error.code, "op.precondition_failed");
  assert.equal((await nimbus.services.get({ name: "twice" })).sandboxId, first.sandboxId, "a stale request restarts nothing");

  const accepted = await restart({ sourceGeneration: 1, requestId: "r-1" });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  assert.equal(accepted.body.kind, "ServiceRestart");
  assert.equal(accepted.body.restartId, "r-1");
  assert.equal(accepted.body.requestId, "r-1");
  assert.equal(accepted.body.sourceGeneration, 1);
  assert.notEqual(accepted.body.sandboxId, first.sandboxId);
  const repeated = await restart({ sourceGeneration: 1, requestId: "r-1" });
  assert.equal(repeated.status, 202);
  assert.deepEqual(repeated.body, accepted.body, "a repeated requestId gets the same receipt");
  assert.equal((await nimbus.services.get({ name: "twice" })).sandboxId, accepted.body.sandboxId, "and no second restart");

  const viaSdk = await nimbus.services.requestRestart({ name: "twice", requestId: "r-2" });
  assert.equal(viaSdk.restartId, "r-2");
  assert.notEqual(viaSdk.sandboxId, accepted.body.sandboxId);
  const plain = await restart({});
  assert.equal(plain.status, 200, "the empty body keeps its meaning");
  assert.equal(plain.body.name, "twice");
  assert.equal((await restart({ requestId: "" })).status, 400);
  await nimbus.services.delete({ name: "twice", ifMatchGeneration: 1, force: true });
});
