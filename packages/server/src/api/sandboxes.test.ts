/**
 * Acceptance (Sandboxes #1, #2, #5) on real crun + conmon with an image
 * pulled from Debian's docker-registry on loopback: isolation seen from
 * inside, OOM and fork-bomb containment, the honest lifecycle, tenant
 * isolation on every route, redaction, and the quota answer.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { rawRequest } from "../testing/raw-http.js";
import { listenHostSecret, type HostSecretListener } from "../testing/host-secret-listener.js";

let env: SandboxEnv;
let hostListener: HostSecretListener | undefined;
let betaKey = "";
const SECRET = "s3cr3t-value-that-must-not-leak";

before(async () => {
  env = await startSandboxEnv({ flags: { tenantMaxSandboxes: "3" } });
  await env.tenant("alpha");
  await env.tenant("beta");
  betaKey = (await env.srv.request("POST", "/api/tenants/beta/api-keys", { body: {} })).body.key;
  hostListener = await listenHostSecret("127.0.0.1");
});
after(async () => {
  hostListener?.close();
  await env?.close();
});

const del = (t: string, id: string) => env.remove(t, id);

test("create answers at once, then the sandbox becomes ready with phases and the image digest", async () => {
  const created = await env.create("alpha", ["sleep", "1000"], { displayName: "Agent Task!" });
  assert.ok(["pending", "starting"].includes(created.status.lifecycleState));
  assert.match(created.metadata.id, /^agent-task-[0-9a-z]{26}$/);
  const ready = await env.waitFor("alpha", created.metadata.id, ["ready", "failed"]);
  assert.equal(ready.status.lifecycleState, "ready", JSON.stringify(ready.status));
  assert.equal(ready.status.readiness, "ready");
  assert.equal(ready.status.health, "healthy");
  assert.equal(ready.status.conditions[0].type, "Ready");
  assert.equal(ready.status.conditions[0].status, "True");
  assert.match(ready.status.imageDigest, /^sha256:[0-9a-f]{64}$/);
  for (const k of ["pullMs", "createMs", "startMs"]) assert.equal(typeof ready.status.phases[k], "number");
  const stopped = await env.srv.request("POST", `/api/tenants/alpha/sandboxes/${created.metadata.id}/stop`, { body: { gracePeriodMs: 200 } });
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.status.lifecycleState, "stopped");
  assert.equal(stopped.body.status.reason, "stopped");
  const again = await env.srv.request("POST", `/api/tenants/alpha/sandboxes/${created.metadata.id}/stop`);
  assert.equal(again.status, 200, "stop is idempotent");
  assert.equal(again.body.metadata.resourceVersion, stopped.body.metadata.resourceVersion);
  assert.equal((await del("alpha", created.metadata.id)).status, 204);
  assert.equal((await env.srv.request("GET", `/api/tenants/alpha/sandboxes/${created.metadata.id}`)).status, 404);
});

test("from inside: own pid tree, only lo, no host loopback, no outside route, no mount, no module caps", async () => {
  const script = [
    "echo pids=$(ls -d /proc/[0-9]* | wc -l)",
    "echo ifaces=$(ls /sys/class/net | tr '\\n' ,)",
    `nc -w 2 127.0.0.1 ${hostListener!.port} </dev/null >/tmp/out 2>&1; echo hostconn=$(cat /tmp/out | grep -c host-secret)`,
    "nc -w 2 192.0.2.1 80 </dev/null 2>/tmp/err; echo outside=$?; cat /tmp/err",
    "mount -t tmpfs none /mnt 2>/dev/null && echo mount=yes || echo mount=no",
    "grep CapEff /proc/self/status",
    "hostname",
  ].join("; ");
  const s = await env.create("alpha", ["sh", "-c", script]);
  const done = await env.waitFor("alpha", s.metadata.id, ["stopped", "failed"]);
  const out = await env.logs("alpha", s.metadata.id);
  assert.equal(done.status.lifecycleState, "stopped", out);
  assert.equal(done.status.reason, "exited");
  assert.equal(done.status.exitCode, 0);
  const pids = Number(/pids=(\d+)/.exec(out)?.[1]);
  assert.ok(pids > 0 && pids < 6, `the sandbox sees only its own processes (${pids})\n${out}`);
  assert.match(out, /ifaces=lo,\n/);
  assert.match(out, /hostconn=0/, "a host listener on 127.0.0.1 is unreachable");
  assert.match(out, /outside=1/);
  assert.match(out, /Network is unreachable/i);
  assert.match(out, /mount=no/);
  const capEff = BigInt("0x" + /CapEff:\s*([0-9a-f]+)/.exec(out)![1]);
  assert.equal(capEff & (1n << 16n), 0n, "no CAP_SYS_MODULE");
  assert.equal(capEff & (1n << 21n), 0n, "no CAP_SYS_ADMIN");
  assert.match(out, new RegExp(`^${s.metadata.id}$`, "m"), "hostname is the sandbox id");
  await del("alpha", s.metadata.id);
});

test("exit codes are reported honestly: 0 → stopped/exited, 3 → failed/exited", async () => {
  const ok = await env.create("alpha", ["sh", "-c", "echo bye"]);
  const bad = await env.create("alpha", ["sh", "-c", "echo oops >&2; exit 3"]);
  const okDone = await env.waitFor("alpha", ok.metadata.id, ["stopped", "failed"]);
  const badDone = await env.waitFor("alpha", bad.metadata.id, ["stopped", "failed"]);
  assert.deepEqual([okDone.status.lifecycleState, okDone.status.reason, okDone.status.exitCode], ["stopped", "exited", 0]);
  assert.deepEqual([badDone.status.lifecycleState, badDone.status.reason, badDone.status.exitCode], ["failed", "exited", 3]);
  assert.equal(badDone.status.health, "unhealthy");
  assert.equal(await env.logs("alpha", bad.metadata.id), "oops\n");
  await del("alpha", ok.metadata.id);
  await del("alpha", bad.metadata.id);
});

test("a memory hog ends failed with reason oom_killed", async () => {
  const hog = await env.create("alpha", ["sh", "-c", "a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done"], { resources: { memoryLimitBytes: 32 * 1024 * 1024 } });
  const done = await env.waitFor("alpha", hog.metadata.id, ["stopped", "failed"], 60_000);
  assert.equal(done.status.lifecycleState, "failed");
  assert.equal(done.status.reason, "oom_killed");
  assert.equal(done.status.exitCode, 137);
  await del("alpha", hog.metadata.id);
});

test("a fork bomb is held by the pids limit while the server and other sandboxes stay healthy", async () => {
  const calm = await env.create("alpha", ["sleep", "1000"]);
  await env.waitFor("alpha", calm.metadata.id, ["ready"]);
  const bomb = await env.create(
    "alpha",
    [
      "sh",
      "-c",
      "(i=0; while [ $i -lt 300 ]; do sleep 1000 & i=$((i+1)); done) 2>/dev/null; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo procs=$n; while :; do read -t 1000 x; done",
    ],
    { resources: { pidsLimit: 32 } },
  );
  await env.waitFor("alpha", bomb.metadata.id, ["ready"]);
  let out = "";
  for (let i = 0; i < 100 && !out.includes("procs="); i++) {
    await new Promise((r) => setTimeout(r, 100));
    out = await env.logs("alpha", bomb.metadata.id);
  }
  const procs = Number(/procs=(\d+)/.exec(out)?.[1]);
  assert.ok(procs > 0 && procs <= 32, `pids limit holds (${procs})`);
  const health = await rawRequest(env.srv.url, "GET", "/health");
  assert.equal(health.status, 200);
  assert.equal((await env.srv.request("GET", `/api/tenants/alpha/sandboxes/${calm.metadata.id}`)).body.status.lifecycleState, "ready");
  await del("alpha", bomb.metadata.id);
  await del("alpha", calm.metadata.id);
});

test("a missing image ends failed with reason pull_failed and a message naming the registry", async () => {
  const r = await env.srv.request("POST", "/api/tenants/alpha/sandboxes", {
    body: {
      profile: "worker",
      spec: {
        owner: { kind: "standalone" },
        backend: "container",
        root: { kind: "oci_image", source: { kind: "reference", reference: "docker.io/library/does-not-exist:1" } },
      },
    },
  });
  assert.equal(r.status, 201);
  assert.match(r.body.metadata.id, /^sandbox-/);
  const done = await env.waitFor("alpha", r.body.metadata.id, ["failed"]);
  assert.equal(done.status.reason, "pull_failed");
  assert.match(done.status.conditions[0].message, /does-not-exist.*(not found|was not found)/i);
  await del("alpha", r.body.metadata.id);
});

test("argv and env are redacted in create, get and list", async () => {
  const s = await env.create("alpha", ["sh", "-c", `echo ${SECRET}; sleep 1000`], { env: [`TOKEN=${SECRET}`], labels: { purpose: "redaction" } });
  const get = await env.srv.request("GET", `/api/tenants/alpha/sandboxes/${s.metadata.id}`);
  const list = await env.srv.request("GET", "/api/tenants/alpha/sandboxes?labelKey=purpose&labelValue=redaction");
  for (const body of [s, get.body, list.body]) assert.equal(JSON.stringify(body).includes(SECRET), false);
  assert.deepEqual(get.body.spec.sandbox.process.argv, { redacted: true, valueCount: 3 });
  assert.deepEqual(get.body.spec.sandbox.process.environment, { redacted: true, valueCount: 1 });
  assert.equal(list.body.items.length, 1);
  await del("alpha", s.metadata.id);
});

test("another tenant's key gets 404 on every sandbox route; the admin sees it", async () => {
  const s = await env.create("alpha", ["sleep", "1000"]);
  const id = s.metadata.id;
  const asBeta = { "x-nimbus-api-key": betaKey, authorization: "" };
  const probes: Array<[string, string, unknown?]> = [
    ["GET", `/api/tenants/alpha/sandboxes/${id}`],
    ["GET", `/api/tenants/alpha/sandboxes`],
    ["POST", `/api/tenants/alpha/sandboxes/${id}/stop`, {}],
    ["DELETE", `/api/tenants/alpha/sandboxes/${id}`],
    ["GET", `/api/tenants/alpha/sandboxes/${id}/logs`],
    ["GET", `/api/tenants/alpha/events`],
    [
      "POST",
      `/api/tenants/alpha/sandboxes`,
      {
        profile: "worker",
        spec: { owner: { kind: "standalone" }, backend: "container", root: { kind: "oci_image", source: { kind: "reference", reference: "busybox" } } },
      },
    ],
    ["GET", `/api/tenants/beta/sandboxes/${id}`],
  ];
  for (const [method, path, body] of probes) {
    const r = await env.srv.request(method, path, { headers: asBeta, ...(body ? { body } : {}) });
    assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "op.not_found");
  }
  const own = await env.srv.request("GET", "/api/tenants/beta/sandboxes", { headers: asBeta });
  assert.equal(own.status, 200);
  assert.deepEqual(own.body.items, []);
  const admin = await env.srv.request("GET", `/api/tenants/alpha/sandboxes/${id}`);
  assert.equal(
    admin.body.status.lifecycleState === "ready" || admin.body.status.lifecycleState === "starting" || admin.body.status.lifecycleState === "pending",
    true,
  );
  await del("alpha", id);
});

test("the quota answers 429 at the limit and frees up after a delete", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await env.create("beta", ["sleep", "1000"])).metadata.id);
  const over = await env.create("beta", ["sleep", "1000"]).catch((e) => e.response);
  assert.equal(over.status, 429);
  assert.equal(over.body.error.code, "rate.resource_exhausted");
  assert.equal(over.body.error.detail.limit, 3);
  assert.equal((await del("beta", ids.pop()!)).status, 204);
  ids.push((await env.create("beta", ["sleep", "1000"])).metadata.id);
  for (const id of ids) await del("beta", id);
});

test("list: sorted by id, paged with pageToken, filtered by status and label", async () => {
  await env.tenant("gamma");
  const a = await env.create("gamma", ["sleep", "1000"], { labels: { team: "red" } });
  const b = await env.create("gamma", ["sh", "-c", "exit 0"], { labels: { team: "blue" } });
  await env.waitFor("gamma", a.metadata.id, ["ready"]);
  await env.waitFor("gamma", b.metadata.id, ["stopped"]);
  const page1 = await env.srv.request("GET", "/api/tenants/gamma/sandboxes?limit=1");
  assert.equal(page1.body.items.length, 1);
  assert.equal(page1.body.metadata.limit, 1);
  assert.equal(page1.body.metadata.remainingCount, 1);
  const page2 = await env.srv.request("GET", `/api/tenants/gamma/sandboxes?limit=1&pageToken=${page1.body.metadata.nextPageToken}`);
  assert.equal(page2.body.items.length, 1);
  assert.equal(page2.body.metadata.nextPageToken, undefined);
  assert.deepEqual([page1.body.items[0].metadata.id, page2.body.items[0].metadata.id], [a.metadata.id, b.metadata.id].sort());
  const ready = await env.srv.request("GET", "/api/tenants/gamma/sandboxes?status=ready");
  assert.deepEqual(
    ready.body.items.map((s: any) => s.metadata.id),
    [a.metadata.id],
  );
  const blue = await env.srv.request("GET", "/api/tenants/gamma/sandboxes?labelKey=team&labelValue=blue");
  assert.deepEqual(
    blue.body.items.map((s: any) => s.metadata.id),
    [b.metadata.id],
  );
  const bad = await env.srv.request("GET", "/api/tenants/gamma/sandboxes?status=running");
  assert.equal(bad.status, 400);
  await del("gamma", a.metadata.id);
  await del("gamma", b.metadata.id);
});

test("the event stream reports the lifecycle without polling", async () => {
  const ac = new AbortController();
  const res = await fetch(`${env.srv.url}/api/tenants/alpha/events?kind=sandbox`, {
    headers: { authorization: `Bearer ${env.srv.token()}` },
    signal: ac.signal,
  });
  assert.equal(res.headers.get("content-type"), "application/x-ndjson", "exactly, no parameters (upstream compares it whole)");
  const s = await env.create("alpha", ["sleep", "1000"]);
  const seen: string[] = [];
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of res.body!) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (line.resource?.metadata?.id === s.metadata.id) seen.push(line.resource.status.lifecycleState);
    }
    if (seen.includes("ready")) break;
  }
  ac.abort();
  // busybox is already present (earlier tests pulled it): create skips `pending`, which means pulling.
  assert.deepEqual(seen, ["starting", "ready"]);
  await del("alpha", s.metadata.id);
});

test("delete works from every state and leaves the sandbox gone", async () => {
  await env.tenant("delta");
  const pending = await env.create("delta", ["sleep", "1000"]);
  assert.equal((await del("delta", pending.metadata.id)).status, 204, "delete right after create");
  const failed = await env.create("delta", ["sh", "-c", "exit 9"]);
  await env.waitFor("delta", failed.metadata.id, ["failed"]);
  assert.equal((await del("delta", failed.metadata.id)).status, 204);
  for (const id of [pending.metadata.id, failed.metadata.id]) {
    assert.equal((await env.srv.request("GET", `/api/tenants/delta/sandboxes/${id}`)).status, 404);
  }
  assert.deepEqual((await env.srv.request("GET", "/api/tenants/delta/sandboxes")).body.items, []);
});

test("spec rules the schema cannot express answer 400", async () => {
  const base = { owner: { kind: "standalone" }, backend: "container", root: { kind: "oci_image", source: { kind: "reference", reference: "busybox" } } };
  const cases: Array<[unknown, RegExp]> = [
    [{ ...base, owner: { kind: "service" } }, /services own their sandboxes/],
    [{ ...base, backend: "vm" }, /not run by this server/],
    [{ ...base, root: { kind: "oci_image", source: { kind: "reference", reference: "UPPER/Case::x" } } }, /reference/i],
    [{ ...base, tenantId: "beta" }, /does not match the route tenant/],
    [{ ...base, process: { argv: ["a"], entrypoint: ["b"] } }, /argv replaces/],
    // A rule outside the default ceiling (ports 80 and 443) is refused, naming the rule.
    [{ ...base, network: { egress: [{ host: "example.com", port: 22, protocol: "tcp" }] } }, /spec\.network\.egress\[0\]: port 22/],
    [{ ...base, network: { secrets: ["X"] } }, /needs egress rules/],
  ];
  for (const [spec, msg] of cases) {
    const r = await env.srv.request("POST", "/api/tenants/alpha/sandboxes", { body: { profile: "worker", spec } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "op.invalid_input");
    assert.match(r.body.error.message, msg);
  }
  const badLabel = await env.srv.request("POST", "/api/tenants/alpha/sandboxes", { body: { profile: "worker", spec: base, labels: { "bad key!": "x" } } });
  assert.equal(badLabel.status, 400);
  assert.match(badLabel.body.error.message, /label key/);
  assert.deepEqual((await env.srv.request("GET", "/api/tenants/alpha/sandboxes")).body.items, [], "rejected creates leave no record");
});
