// e2e/egress.test.ts — egress end to end (issue 17): real crun sandboxes
// (busybox) with `spec.network.egress` rules, through the server's bridge,
// nftables table, proxy and DNS responder, to the fake internet
// (testing/fake-internet.ts): a netns behind a veth, holding 198.18.x.0/24 addresses (checked with
// `ip route get`) and two always-refused addresses (10.255.x.1, 169.254.x.1)
// bound there as /32s with host routes over that veth. The server resolves
// through a test zone on loopback. No packet can leave the machine.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { findBinary, runCommand } from "../runtime/container/exec.js";
import { execCall } from "../testing/exec-call.js";
import { startSandboxEnv, standaloneSandboxBody, BUSYBOX, type SandboxEnv } from "../testing/sandbox-env.js";
import { startTestZone, type TestZone } from "../testing/dns-zone.js";
import { startFakeInternet, type FakeInternet } from "../testing/fake-internet.js";
import { isolatedEnv, NIMBUS_BIN, runNimbus } from "../testing/cli.js";
import { Nimbus } from "@nimbus/nimbus";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "../testing/until.js";

const skip =
  (process.getuid?.() !== 0 || !findBinary("nft") || !findBinary("ip") || !findBinary("crun") || !findBinary("openssl")) &&
  "needs root, crun, iproute2, nftables and openssl";

// Random /32s of the always-refused classes, so parallel runs on one host do not collide on the host routes.
const PRIVATE = `10.255.${1 + Math.floor(Math.random() * 254)}.1`;
const LINK_LOCAL = `169.254.${1 + Math.floor(Math.random() * 200)}.1`;
const T = "egress-e2e";

let env: SandboxEnv | undefined;
let zone: TestZone | undefined;
let net: FakeInternet | undefined;
let API = ""; // api.example.test, tls.example.test
let WILD = ""; // x.wild.test and wild.test
let OTHER = ""; // in no rule
let cliHome = "";
let sandboxId = "";

/** The ClientHello Node sends for `servername`, captured on loopback. */
async function captureClientHello(servername: string): Promise<Buffer> {
  const { createServer } = await import("node:net");
  const { connect } = await import("node:tls");
  return new Promise<Buffer>((resolveHello, reject) => {
    const server = createServer((s) =>
      s.once("data", (d: Buffer) => {
        resolveHello(d);
        s.destroy();
        server.close();
      }),
    );
    server.listen(0, "127.0.0.1", () => {
      const c = connect({ host: "127.0.0.1", port: (server.address() as { port: number }).port, servername, rejectUnauthorized: false });
      c.on("error", () => undefined);
    });
    server.on("error", reject);
  });
}

/** A shell command inside the sandbox. */
async function run(cmd: string, id = sandboxId): Promise<{ out: string; code?: number; ms: number }> {
  const t0 = performance.now();
  const r = await execCall(env!, T, id, {
    argv: [
      "sh",
      "-c",
      `{ ${cmd}
} 2>&1`,
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.error));
  return { out: r.stdout, code: r.exitCode, ms: performance.now() - t0 };
}

async function createSandbox(network: unknown, name: string): Promise<{ status: number; body: any }> {
  return env!.srv.request("POST", `/api/tenants/${T}/sandboxes`, {
    body: standaloneSandboxBody(BUSYBOX, name, { argv: ["sleep", "600"] }, network ? { network } : {}),
  });
}

/** Rules for api.example.test: HTTP, and plain TCP to `port`. */
const apiHttpAndTcp = (port: number) => ({
  egress: [
    { host: "api.example.test", protocol: "http" },
    { host: "api.example.test", protocol: "tcp", port },
  ],
});

const RULES = [
  { host: "api.example.test", protocol: "http" }, // 0
  { host: "*.wild.test", protocol: "http" }, // 1
  { host: "tls.example.test", protocol: "https" }, // 2
  { host: PRIVATE, protocol: "tcp", port: 7777 }, // 3
  { host: LINK_LOCAL, protocol: "tcp", port: 7777 }, // 4
];

before(async () => {
  if (skip) return;
  net = await startFakeInternet({ extraAddresses: [PRIVATE, LINK_LOCAL] });
  [API, WILD, OTHER] = net.hosts as [string, string, string];
  cliHome = mkdtempSync(join(tmpdir(), "nimbus-egress-e2e-"));
  zone = await startTestZone({
    "api.example.test": [API],
    "tls.example.test": [API],
    "x.wild.test": [WILD],
    "wild.test": [WILD],
    "other.example.test": [OTHER],
  });
  clientHello = await captureClientHello("tls.example.test");
  env = await startSandboxEnv({
    // The fake internet's certificate is what inspected upstreams verify against; busybox's TLS client signs with SHA-1.
    flags: { egressDnsUpstream: [zone.server], egressUpstreamCa: [net.certPath], egressInspectCiphers: "DEFAULT:@SECLEVEL=0" },
  });
  await env.tenant(T);
  const ceiling = await env.srv.request("PUT", `/api/tenants/${T}/egress`, {
    body: { hosts: ["*", PRIVATE, LINK_LOCAL], ports: [80, 443, 7777, 7778], allowAddresses: true },
  });
  assert.equal(ceiling.status, 200, JSON.stringify(ceiling.body));
  const created = await createSandbox({ egress: RULES }, "egress");
  assert.equal(created.status, 201, JSON.stringify(created.body));
  sandboxId = created.body.metadata?.id ?? created.body.id;
  await env.waitFor(T, sandboxId, ["ready"]);
});

after(async () => {
  const errors: unknown[] = [];
  const attempt = async (f: () => Promise<unknown>) => f().catch((e) => errors.push(e));
  if (env) await attempt(() => env!.close()); // deletes the sandboxes, stops the server (bridge and table go), checks for leftovers
  if (zone) await attempt(() => zone!.close());
  if (net) await attempt(() => net!.close());
  if (cliHome) rmSync(cliHome, { recursive: true, force: true });
  if (errors.length > 0) throw errors[0];
});

/**
 * busybox-static's wget crashes in static glibc's getaddrinfo (SIGSEGV, even
 * for a literal address), so requests are made with nslookup (busybox's own
 * resolver, through the sandbox's resolv.conf) and nc.
 */
const resolve = (name: string) => `nslookup -type=a ${name} | awk '/^Address: /{a=$2} END{print a}'`;
const get = (name: string, port = 80) =>
  `A=$(${resolve(name)}); printf 'GET / HTTP/1.0\\r\\nHost: ${name}\\r\\n\\r\\n' | timeout 5 nc "$A" ${port}; echo rc=$?`;
/** A printf that writes these bytes (octal escapes: no file needs uploading). */
const sendBytes = (b: Buffer) => `printf '${[...b].map((x) => "\\" + x.toString(8).padStart(3, "0")).join("")}'`;
let clientHello: Buffer = Buffer.alloc(0);

const upstreamLines = (prefix: string) => net!.lines(prefix);

test("an allowed http host is reached by name from inside the sandbox", { skip }, async () => {
  const r = await run(get("api.example.test"));
  assert.match(r.out, new RegExp(`hello from ${API}:80\n`), r.out);
  assert.ok(upstreamLines("req").includes(`req ${API}:80 host=api.example.test auth=undefined`), net!.log());
});

test("an allowed https host is reached: the ClientHello passes through and the upstream's own TLS answers", { skip }, async () => {
  const r = await run(`A=$(${resolve("tls.example.test")}); ${sendBytes(clientHello)} | timeout 5 nc $A 443 | head -c 3 | od -An -tx1`);
  assert.match(r.out.trim(), /^16 03 0[13]$/, `a TLS handshake record comes back: ${r.out}`);
});

test("a name no rule allows gets NXDOMAIN at once", { skip }, async () => {
  const r = await run("nslookup -type=a denied.example.test");
  assert.match(r.out, /NXDOMAIN/, r.out);
  // Far below the resolver timeout (2 s): an answer, not a timeout (exec overhead included).
  assert.ok(r.ms < 1500, `took ${r.ms} ms`);
  assert.ok(!zone!.queries.some((q) => q.includes("denied.example.test")), "a denied name is never asked upstream");
});

test("*.wild.test matches x.wild.test but not wild.test", { skip }, async () => {
  const wild = await run(get("x.wild.test"));
  assert.match(wild.out, new RegExp(`hello from ${WILD}:80\n`), wild.out);
  const bare = await run("nslookup -type=a wild.test");
  assert.match(bare.out, /NXDOMAIN/, bare.out);
  const byAddress = await run(`printf 'GET / HTTP/1.0\\r\\nHost: wild.test\\r\\n\\r\\n' | timeout 5 nc ${WILD} 80; echo rc=$?`);
  assert.doesNotMatch(byAddress.out, /hello/, byAddress.out);
});

test("ports are exact: the allowed host on another port is refused", { skip }, async () => {
  const before = upstreamLines("req").length;
  const r = await run(get("api.example.test", 8080));
  assert.doesNotMatch(r.out, /hello/, r.out);
  assert.equal(upstreamLines("req").length, before, net!.log());
});

test("a literal IP in no rule is refused, by address and with its own Host", { skip }, async () => {
  const r = await run(
    `printf 'GET / HTTP/1.0\\r\\nHost: ${OTHER}\\r\\n\\r\\n' | timeout 5 nc ${OTHER} 80; echo rc=$?; printf 'x' | timeout 5 nc ${OTHER} 7777; echo rc=$?`,
  );
  assert.doesNotMatch(r.out, /hello/, r.out);
  assert.ok(!net!.log().includes(`${OTHER}:`), net!.log());
});

test("fronting is refused: an allowed Host on an address that name did not resolve to", { skip }, async () => {
  await run("nslookup -type=a api.example.test");
  const r = await run(`printf 'GET / HTTP/1.0\\r\\nHost: api.example.test\\r\\n\\r\\n' | timeout 5 nc ${OTHER} 80; echo rc=$?`);
  assert.doesNotMatch(r.out, /hello/, r.out);
  assert.ok(!net!.log().includes(`${OTHER}:80`), net!.log());
});

test("a private and a link-local address are refused even with a rule naming them; their listener sees nothing", { skip }, async () => {
  for (const a of [PRIVATE, LINK_LOCAL]) {
    const r = await run(`printf 'x' | timeout 5 nc ${a} 7777; echo rc=$?`);
    assert.doesNotMatch(r.out, /tcp hello/, r.out);
  }
  assert.deepEqual(upstreamLines("tcp"), [], net!.log());
  // The listener is there: the host (outside the policy) reaches it, so the assertion above can fail.
  const direct = await runCommand("ip", ["netns", "exec", net!.ns, "busybox", "nc", PRIVATE, "7777"], { timeoutMs: 5_000 });
  assert.match(direct.stdout, /tcp hello/);
  net!.forget(/^tcp .*\n/gm);
});

test("UDP other than DNS is dropped", { skip }, async () => {
  await run(`timeout 3 tftp -g -r f -l /tmp/f ${API} 9999; echo rc=$?`);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(upstreamLines("udp"), [], net!.log());
});

test("the decision log lists the attempts with the rule that decided", { skip }, async () => {
  const all = await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress`);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  const rows = all.body.items as Array<Record<string, any>>;
  const find = (p: (r: Record<string, any>) => boolean, what: string) => {
    const row = rows.find(p);
    assert.ok(row, `${what} not in the log: ${JSON.stringify(rows, null, 1)}`);
    return row;
  };
  find((r) => r.kind === "dns" && r.name === "api.example.test" && r.decision === "allowed", "the allowed lookup");
  find((r) => r.kind === "dns" && r.name === "denied.example.test" && r.decision === "denied", "the denied lookup");
  find((r) => r.kind === "dns" && r.name === "wild.test" && r.decision === "denied", "the bare suffix lookup");
  const ok = find((r) => r.kind === "connect" && r.decision === "allowed" && r.name === "api.example.test" && r.port === 80, "the allowed connection");
  assert.equal(ok.rule, "0");
  assert.ok(ok.bytesDown > 0 && ok.bytesUp > 0, JSON.stringify(ok));
  assert.equal(find((r) => r.kind === "connect" && r.decision === "allowed" && r.name === "tls.example.test", "the https connection").rule, "2");
  assert.equal(find((r) => r.kind === "connect" && r.decision === "allowed" && r.name === "x.wild.test", "the wildcard connection").rule, "1");
  find((r) => r.kind === "connect" && r.decision === "denied" && r.port === 8080, "the wrong port");
  find((r) => r.kind === "connect" && r.decision === "denied" && r.address === OTHER && r.name === "api.example.test", "the fronting attempt");
  assert.equal(find((r) => r.address === PRIVATE, "the private address").rule, "always_refused:private");
  assert.equal(find((r) => r.address === LINK_LOCAL, "the link-local address").rule, "always_refused:link_local");
  // Filters and paging.
  const denied = await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?decision=denied&host=${PRIVATE}`);
  assert.ok(
    denied.body.items.length >= 1 && denied.body.items.every((r: any) => r.decision === "denied" && r.address === PRIVATE),
    JSON.stringify(denied.body),
  );
  const first = await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?limit=2`);
  assert.equal(first.body.items.length, 2);
  assert.equal(first.body.metadata.remainingCount, rows.length - 2);
  const second = await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?limit=2&pageToken=${first.body.metadata.nextPageToken}`);
  assert.deepEqual(second.body.items, rows.slice(2, 4));
  const bad = await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?since=yesterday`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "op.invalid_input");
  const since = await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00.000Z`);
  assert.equal(since.status, 200, JSON.stringify(since.body));
  assert.equal(since.body.items.length, rows.length, "an RFC 3339 window around everything keeps every row");
  // The SDK and the CLI read the same log.
  const sdk = new Nimbus({ endpoint: env!.srv.url, token: env!.srv.token(), tenantId: T });
  const viaSdk = await sdk.sandboxes.egressLog({ id: sandboxId, decision: "denied", host: LINK_LOCAL });
  assert.equal(viaSdk.items[0]?.rule, "always_refused:link_local");
  const cliEnv = isolatedEnv(cliHome, { NIMBUS_ENDPOINT: env!.srv.url, NIMBUS_TOKEN: env!.srv.token(), NIMBUS_TENANT_ID: T });
  const cli = await runNimbus(["sandbox", "egress", sandboxId, "--decision", "denied", "--json"], cliEnv);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(
    JSON.parse(cli.stdout),
    rows.filter((r) => r.decision === "denied"),
  );
  const human = await runNimbus(["sandbox", "egress", sandboxId, "--host", PRIVATE], cliEnv);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^TIME +KIND +NAME +ADDRESS +PORT +DECISION +RULE +REASON$/m);
  assert.match(human.stdout, new RegExp(`connect +- +${PRIVATE.replace(/\./g, "\\.")} +7777 +denied +always_refused:private`));
});

const SECRET_VALUE = "s3cr3t-value-4b9";
/** An HTTPS request from the sandbox with busybox's ssl_client over nc (the socket is the -e program's stdin and stdout). */
const httpsRequest = (name: string, method: string, path: string, extraHeader = "") =>
  `A=$(${resolve(name)}); timeout 10 nc "$A" 443 -e sh -c "exec 3<&0; printf '${method} ${path} HTTP/1.1\\r\\nHost: ${name}\\r\\n${extraHeader}Connection: close\\r\\n\\r\\n' | ssl_client -s 3 -n ${name} >&2" 2>&1`;

test("inspected https: a secret reaches the upstream in its header while the sandbox sees only the placeholder; methods are enforced", { skip }, async () => {
  const put = await env!.srv.request("POST", `/api/tenants/${T}/secrets`, { body: { name: "API_TOKEN", value: SECRET_VALUE, hosts: ["tls.example.test"] } });
  assert.ok(put.status === 201 || put.status === 200, JSON.stringify(put.body));
  const created = await createSandbox({ egress: [{ host: "tls.example.test", protocol: "https", methods: ["GET"] }], secrets: ["API_TOKEN"] }, "secret");
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.metadata.id;
  await env!.waitFor(T, id, ["ready"]);
  const seen = await run("env; tr '\\0' '\\n' < /proc/1/environ", id);
  assert.match(seen.out, /^NIMBUS_SECRET_API_TOKEN=nimbus-secret:\/\/API_TOKEN$/m);
  assert.ok(!seen.out.includes(SECRET_VALUE), "the value is nowhere in the sandbox's environment");
  assert.match(seen.out, /^SSL_CERT_FILE=\/etc\/nimbus\/egress-ca-bundle\.pem$/m);
  for (const v of ["NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
    assert.match(seen.out, new RegExp(`^${v}=/etc/nimbus/egress-ca-bundle\\.pem$`, "m"));
  const bundle = await run("grep -c 'BEGIN CERTIFICATE' /etc/nimbus/egress-ca-bundle.pem; echo x > /etc/nimbus/egress-ca-bundle.pem; echo rc=$?", id);
  assert.match(bundle.out, /rc=[1-9]/, `the bundle is read-only: ${bundle.out}`);

  const ok = await run(httpsRequest("tls.example.test", "GET", "/models", "Authorization: Bearer nimbus-secret://API_TOKEN\\r\\n"), id);
  assert.match(ok.out, new RegExp(`hello from ${API}:443`), ok.out);
  assert.ok(upstreamLines("req").includes(`req ${API}:443 host=tls.example.test auth=Bearer ${SECRET_VALUE}`), net!.log());
  // The secret's header is added when the request lacks it.
  const bare = await run(httpsRequest("tls.example.test", "GET", "/bare"), id);
  assert.match(bare.out, /hello from/, bare.out);
  assert.equal(upstreamLines("req").filter((l) => l.endsWith(`auth=Bearer ${SECRET_VALUE}`)).length, 2, net!.log());

  const before = upstreamLines("req").length;
  const refused = await run(httpsRequest("tls.example.test", "POST", "/models"), id);
  assert.match(refused.out, /403 Forbidden[\s\S]*method POST/, refused.out);
  assert.equal(upstreamLines("req").length, before, "a refused request never reaches the upstream");

  const log = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}/egress?host=tls.example.test`)).body.items as Array<Record<string, any>>;
  assert.ok(
    log.some((r) => r.decision === "allowed" && r.rule === "0" && r.kind === "connect"),
    JSON.stringify(log),
  );
  assert.ok(
    log.some((r) => r.decision === "denied" && /method POST/.test(r.reason)),
    JSON.stringify(log),
  );
  assert.ok(!JSON.stringify(log).includes(SECRET_VALUE), "the log never holds the value");
});

test("plain http with methods and path prefixes: every request on a connection is checked, a refused one never reaches the upstream", { skip }, async () => {
  const created = await createSandbox({ egress: [{ host: "api.example.test", protocol: "http", methods: ["GET"], pathPrefixes: ["/ok"] }] }, "http-inspect");
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.metadata.id;
  await env!.waitFor(T, id, ["ready"]);
  const send = (requests: string) => run(`A=$(${resolve("api.example.test")}); printf '${requests}' | timeout 5 nc "$A" 80; echo rc=$?`, id);
  const req = (method: string, path: string, host = "api.example.test", close = true) =>
    `${method} ${path} HTTP/1.1\\r\\nHost: ${host}\\r\\n${close ? "Connection: close\\r\\n" : ""}Content-Length: 0\\r\\n\\r\\n`;
  const before = upstreamLines("req").length;
  const first = await send(req("GET", "/ok/1"));
  const rowsNow = async () => JSON.stringify((await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}/egress`)).body.items);
  assert.match(first.out, new RegExp(`200 OK[\\s\\S]*hello from ${API}:80`), `${first.out}\n${await rowsNow()}`);
  const post = await send(req("POST", "/ok/1"));
  assert.match(post.out, /403 Forbidden[\s\S]*method POST/, post.out);
  const admin = await send(req("GET", "/admin"));
  assert.match(admin.out, /403 Forbidden[\s\S]*path \/admin/, admin.out);
  // Two requests on one connection: the second is checked too (not only the head the proxy peeked).
  const kept = await send(req("GET", "/ok/a", "api.example.test", false) + req("GET", "/admin/2"));
  assert.match(kept.out, /200 OK[\s\S]*hello from[\s\S]*403 Forbidden[\s\S]*path \/admin\/2/, kept.out);
  // Another Host on the same connection is fronting.
  const switched = await send(req("GET", "/ok/b", "api.example.test", false) + req("GET", "/ok/c", "x.wild.test"));
  assert.match(switched.out, /200 OK[\s\S]*403 Forbidden[\s\S]*differs from the Host this connection was allowed for/, switched.out);
  assert.equal(upstreamLines("req").length, before + 3, `only the allowed requests reached the upstream: ${net!.log()}`);
  const log = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}/egress?decision=denied`)).body.items as Array<Record<string, any>>;
  assert.ok(
    log.some((r) => r.kind === "connect" && r.rule === "0" && /method POST/.test(r.reason)),
    JSON.stringify(log),
  );
  assert.ok(
    log.some((r) => /path \/admin\/2/.test(r.reason)),
    JSON.stringify(log),
  );
});

/** The tenant's event stream, egress events of the shared sandbox only; `ac` ends it. */
async function egressEvents(): Promise<{ ac: AbortController; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const ac = new AbortController();
  const res = await fetch(`${env!.srv.url}/api/tenants/${T}/events?kind=egress&id=${sandboxId}`, {
    headers: { authorization: `Bearer ${env!.srv.token()}` },
    signal: ac.signal,
  });
  assert.equal(res.status, 200);
  return { ac, reader: res.body!.getReader() };
}

test("denials are events on the tenant's stream (kind egress), keyed by the sandbox", { skip }, async () => {
  const { ac, reader } = await egressEvents();
  try {
    await run("nslookup -type=a evented.example.test");
    let text = "";
    const deadline = Date.now() + 5_000;
    while (!text.includes("evented.example.test") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    const event = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "egress" && e.resource?.name === "evented.example.test");
    assert.ok(event, text);
    assert.equal(event.action, "denied");
    assert.equal(event.resource.sandboxId, sandboxId);
    assert.equal(event.resource.kind, "dns");
  } finally {
    ac.abort();
    await reader.cancel().catch(() => undefined);
  }
});

test(
  "a flood of denials is throttled on the event stream: at most 20 events a second per sandbox, the rest summed up in suppressedCount",
  { skip },
  async () => {
    const { ac, reader } = await egressEvents();
    const events: Array<Record<string, any>> = [];
    let text = "";
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString();
        const lines = text.split("\n");
        text = lines.pop()!;
        for (const l of lines.filter(Boolean)) {
          const e = JSON.parse(l);
          if (e.type === "egress" && /^flood-/.test(e.resource?.name ?? "")) events.push({ ...e.resource, receivedMs: Date.now() });
        }
      }
    })().catch(() => undefined);
    try {
      const t0 = Date.now();
      // Fully qualified names: no search suffixes, one query each.
      await run("i=0; while [ $i -lt 150 ]; do nslookup -type=a flood-$i.example.test. >/dev/null 2>&1; i=$((i+1)); done");
      const seconds = (Date.now() - t0) / 1000;
      const logged = async () => {
        let n = 0;
        for (let token = ""; ;) {
          const page = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?decision=denied&limit=100${token}`)).body;
          n += (page.items as Array<Record<string, any>>).filter((r) => /^flood-/.test(r.name ?? "")).length;
          if (!page.metadata.nextPageToken || page.items.length === 0) return n;
          token = `&pageToken=${page.metadata.nextPageToken}`;
        }
      };
      // Every denial is in the log; the events add up to it once the last window closed.
      const sum = () => events.reduce((n, e) => n + (e.suppressedCount ?? 1), 0);
      let inLog = 0;
      await waitUntil("the events to add up to the log", () => sum() > 0 && sum() === inLog, 8_000).catch(() => undefined);
      inLog = await logged();
      await waitUntil("the events to add up to the log", () => sum() === inLog, 5_000).catch(() => undefined);
      assert.ok(inLog >= 150, `denials in the log: ${inLog}`);
      assert.equal(sum(), inLog, JSON.stringify(events.map((e) => [e.name, e.suppressedCount])));
      const summaries = events.filter((e) => e.suppressedCount !== undefined);
      assert.ok(summaries.length >= 1, "a flood this fast is summed up");
      // At most 20 single events per window, plus one summary per window; windows last a second.
      const windows = Math.ceil(seconds) + 1;
      assert.ok(events.length <= windows * 21, `${events.length} events in ${seconds.toFixed(1)} s for ${inLog} denials`);
    } finally {
      ac.abort();
      await reader.cancel().catch(() => undefined);
      await pump;
    }
  },
);

test("PATCH …/network: new rules apply at once, open connections they refuse are closed within a second, stale versions are 412", { skip }, async () => {
  const created = await createSandbox(apiHttpAndTcp(7778), "patch");
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.metadata.id;
  await env!.waitFor(T, id, ["ready"]);
  const holdsBefore = upstreamLines("hold").length;
  await run(`A=$(${resolve("api.example.test")}); (sleep 30 | nc "$A" 7778 > /tmp/held 2>&1; echo ended > /tmp/ended) < /dev/null > /dev/null 2>&1 &`, id);
  await waitUntil("the held connection", () => upstreamLines("hold").length > holdsBefore);
  assert.match((await run(get("api.example.test"), id)).out, /hello from/);
  const path = `/api/tenants/${T}/sandboxes/${id}/network`;
  const current = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).body;
  const sdk = new Nimbus({ endpoint: env!.srv.url, token: env!.srv.token(), tenantId: T });
  await assert.rejects(
    sdk.sandboxes.updateNetwork({ id, resourceVersion: "0", egress: [] }),
    (e: any) => e.status === 412 || e.code === "op.precondition_failed",
  );
  const outside = await env!.srv.request("PATCH", path, {
    body: { resourceVersion: current.metadata.resourceVersion, egress: [{ host: "a.test", protocol: "tcp", port: 22 }] },
  });
  assert.equal(outside.status, 400, JSON.stringify(outside.body));
  assert.match(outside.body.error.message, /egress\[0\]/);
  const t0 = Date.now();
  const patched = await env!.srv.request("PATCH", path, {
    body: { resourceVersion: current.metadata.resourceVersion, egress: [{ host: "x.wild.test", protocol: "http" }] },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.metadata.generation, current.metadata.generation + 1);
  // The open connection the new rules refuse is closed (nc ends long before its 30 s input does).
  let ended = "";
  while (!ended.includes("ended") && Date.now() - t0 < 5_000) ended = (await run("cat /tmp/ended 2>/dev/null", id)).out;
  assert.match(ended, /ended/);
  assert.ok(Date.now() - t0 < 2_000, `closed after ${Date.now() - t0} ms (exec round trips included)`);
  // New connections and names follow the new rules.
  assert.match((await run("nslookup -type=a api.example.test", id)).out, /NXDOMAIN/);
  assert.doesNotMatch((await run(get("api.example.test"), id)).out, /hello/);
  assert.match((await run(get("x.wild.test"), id)).out, new RegExp(`hello from ${WILD}:80`));
  const spec = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).body.spec;
  assert.deepEqual(spec.sandbox.network.egress, [{ host: "x.wild.test", protocol: "http" }]);
  // No rules at all refuses everything, and the link stays for later rules.
  const none = await env!.srv.request("PATCH", path, { body: { resourceVersion: patched.body.metadata.resourceVersion, egress: [] } });
  assert.equal(none.status, 200, JSON.stringify(none.body));
  assert.match((await run("nslookup -type=a x.wild.test", id)).out, /NXDOMAIN/);
  const again = await env!.srv.request("PATCH", path, {
    body: { resourceVersion: none.body.metadata.resourceVersion, egress: [{ host: "x.wild.test", protocol: "http" }] },
  });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.match((await run(get("x.wild.test"), id)).out, /hello from/);
});

test(
  "the CLI: `sandbox network` replaces the rules (from a file or stdin), `sandbox egress --follow` prints decisions as they are logged",
  { skip },
  async () => {
    const created = await createSandbox({ egress: [{ host: "api.example.test", protocol: "http" }] }, "cli");
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.metadata.id;
    await env!.waitFor(T, id, ["ready"]);
    const cliEnv = isolatedEnv(cliHome, { NIMBUS_ENDPOINT: env!.srv.url, NIMBUS_TOKEN: env!.srv.token(), NIMBUS_TENANT_ID: T });
    const follow = spawn(process.execPath, [NIMBUS_BIN, "sandbox", "egress", id, "--follow", "--json"], { env: cliEnv, stdio: ["ignore", "pipe", "pipe"] });
    let followed = "";
    let followErr = "";
    follow.stdout.on("data", (d) => (followed += d));
    follow.stderr.on("data", (d) => (followErr += d));
    const exited = new Promise<number | null>((r) => follow.on("exit", (code) => r(code)));
    const rows = () =>
      followed
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>);
    try {
      assert.match((await run(get("api.example.test"), id)).out, /hello from/);
      await waitUntil(
        "the allowed connection in the followed log",
        () => rows().some((r) => r.kind === "connect" && r.name === "api.example.test" && r.decision === "allowed"),
        10_000,
      );
      // Replace the rules from a file.
      const file = join(cliHome, "rules.json");
      writeFileSync(file, JSON.stringify([{ host: "x.wild.test", protocol: "http" }]));
      const set = await runNimbus(["sandbox", "network", id, "--egress-file", file], cliEnv);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, new RegExp(`^${id}: 1 egress rule\\(s\\), resourceVersion \\S+`));
      assert.match((await run("nslookup -type=a api.example.test", id)).out, /NXDOMAIN/);
      assert.match((await run(get("x.wild.test"), id)).out, new RegExp(`hello from ${WILD}:80`));
      await waitUntil(
        "the denied lookup in the followed log",
        () => rows().some((r) => r.kind === "dns" && r.name === "api.example.test" && r.decision === "denied"),
        10_000,
      );
      // Rows are printed once each, in order.
      const seqs = rows().map((r) => r.seq as number);
      assert.deepEqual(
        seqs,
        [...new Set(seqs)].sort((a, b) => a - b),
      );
      // From stdin, as {egress: [...]}, with --json.
      const none = await runNimbus(["sandbox", "network", id, "--egress-file", "-", "--json"], cliEnv, JSON.stringify({ egress: [] }));
      assert.equal(none.code, 0, none.stderr);
      assert.deepEqual(JSON.parse(none.stdout).spec.sandbox.network.egress, []);
      assert.match((await run("nslookup -type=a x.wild.test", id)).out, /NXDOMAIN/);
      // Bad input: a usage error, the server's 400 naming the rule, a stale version.
      const missing = await runNimbus(["sandbox", "network", id, "--egress-file", join(cliHome, "nope.json")], cliEnv);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /--egress-file: cannot read/);
      const notJson = await runNimbus(["sandbox", "network", id, "--egress-file", "-"], cliEnv, "host: a");
      assert.equal(notJson.code, 2, notJson.stderr);
      const outside = await runNimbus(
        ["sandbox", "network", id, "--egress-file", "-"],
        cliEnv,
        JSON.stringify([{ host: "a.test", protocol: "tcp", port: 22 }]),
      );
      assert.equal(outside.code, 1, outside.stderr);
      assert.match(outside.stderr, /egress\[0\]/);
      const stale = await runNimbus(["sandbox", "network", id, "--egress-file", "-", "--resource-version", "1"], cliEnv, "[]");
      assert.equal(stale.code, 1, stale.stderr);
      assert.match(stale.stderr, /precondition/);
    } finally {
      // Deleting the sandbox ends the follow.
      await env!.remove(T, id);
    }
    const t0 = Date.now();
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 10_000))]);
    if (code === "still running") follow.kill("SIGKILL");
    assert.equal(code, 0, `follow: ${followErr}`);
    assert.ok(Date.now() - t0 < 5_000);
  },
);

test("the tenant ceiling refuses a rule outside it, naming the rule", { skip }, async () => {
  const r = await createSandbox(apiHttpAndTcp(22), "outside");
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.error.message, /spec\.network\.egress\[1\]/);
  const unknownSecret = await createSandbox({ egress: [{ host: "api.example.test", protocol: "http" }], secrets: ["NOPE"] }, "secret");
  assert.equal(unknownSecret.status, 400, JSON.stringify(unknownSecret.body));
});

test("a server restart keeps egress: the links survive, the proxy and DNS come back, the policy is registered again", { skip }, async () => {
  await env!.restart();
  const r = await run(get("api.example.test"));
  // On failure, the decision log says whether the lookup or the connection was refused, and why.
  const why = () => env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?limit=10`).then((l) => JSON.stringify(l.body));
  // …and a second lookup says whether DNS was down for a moment or for good.
  if (!r.out.includes("hello from")) assert.fail(`${r.out}\n${await why()}\nlookup again: ${(await run("nslookup -type=a api.example.test")).out}`);
  assert.match(r.out, new RegExp(`hello from ${API}:80\n`), r.out);
  const denied = await run("nslookup -type=a denied-after-restart.example.test");
  assert.match(denied.out, /NXDOMAIN/, denied.out);
  const other = await run(`printf 'x' | timeout 5 nc ${OTHER} 7777; echo rc=$?`);
  assert.doesNotMatch(other.out, /tcp hello/, other.out);
});

test("a sandbox with no rules still has only lo and no DNS server", { skip }, async () => {
  const created = await createSandbox(undefined, "plain");
  assert.equal(created.status, 201);
  const id = created.body.metadata?.id ?? created.body.id;
  await env!.waitFor(T, id, ["ready"]);
  const links = await run("ls /sys/class/net", id);
  assert.equal(links.out.trim(), "lo");
  const resolv = await run("grep -c nameserver /etc/resolv.conf", id);
  assert.equal(resolv.out.trim(), "0");
  // No link to give rules to: PATCH is a 409, not a way to open egress later.
  const patch = await env!.srv.request("PATCH", `/api/tenants/${T}/sandboxes/${id}/network`, {
    body: { resourceVersion: created.body.metadata.resourceVersion, egress: [{ host: "api.example.test", protocol: "http" }] },
  });
  assert.ok(patch.status === 409 || patch.status === 412, JSON.stringify(patch.body));
  const fresh = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${id}`)).body.metadata.resourceVersion;
  const patch2 = await env!.srv.request("PATCH", `/api/tenants/${T}/sandboxes/${id}/network`, {
    body: { resourceVersion: fresh, egress: [{ host: "api.example.test", protocol: "http" }] },
  });
  assert.equal(patch2.status, 409, JSON.stringify(patch2.body));
  // With rules, eth0 is there (so the assertion above can fail).
  assert.deepEqual((await run("ls /sys/class/net")).out.trim().split(/\s+/).sort(), ["eth0", "lo"]);
});
