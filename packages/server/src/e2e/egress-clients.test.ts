// e2e/egress-clients.test.ts — issue 17's "allowed https host works (curl,
// node fetch, python requests in an image that has them)": Debian's curl,
// python3-requests and Node 22's fetch in a real crun sandbox
// (testing/egress-clients-image.ts), to the fake internet
// (testing/fake-internet.ts; no packet leaves the machine), for
//   - https passed through untouched: the client trusts only the upstream's own
//     certificate, so it would fail if the proxy had terminated TLS;
//   - https inspected (a GET-only rule and a secret bound to the host): the
//     client is given no option at all; the sandbox's CA env vars
//     (CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS) make it trust
//     the per-server CA, the secret reaches the upstream, a POST gets 403.
// The image is built once with mmdebstrap and cached (see that file).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { findBinary } from "../runtime/container/exec.js";
import { execCall } from "../testing/exec-call.js";
import { startSandboxEnv, standaloneSandboxBody, type SandboxEnv } from "../testing/sandbox-env.js";
import { startTestZone, type TestZone } from "../testing/dns-zone.js";
import { startFakeInternet, type FakeInternet } from "../testing/fake-internet.js";
import { buildEgressClientsImage } from "../testing/egress-clients-image.js";
import { FIXTURE_TAG, pushFixture } from "../testing/fixtures.js";

const skip =
  (process.getuid?.() !== 0 || !findBinary("nft") || !findBinary("ip") || !findBinary("crun") || !findBinary("openssl") || !findBinary("mmdebstrap")) &&
  "needs root, crun, iproute2, nftables, openssl and mmdebstrap";

const T = "egress-clients";
const PASS = "pass.example.test";
const INSPECT = "inspect.example.test";
const SECRET_VALUE = "client-secret-7f3";
const IMAGE = `docker.io/library/egress-clients:${FIXTURE_TAG}`;

let env: SandboxEnv | undefined;
let zone: TestZone | undefined;
let net: FakeInternet | undefined;
let sandboxId = "";

before(async () => {
  if (skip) return;
  const layout = await buildEgressClientsImage();
  net = await startFakeInternet({ hostCount: 1, tlsNames: [PASS, INSPECT] });
  const upstream = net.hosts[0]!;
  zone = await startTestZone({ [PASS]: [upstream], [INSPECT]: [upstream] });
  env = await startSandboxEnv({ flags: { egressDnsUpstream: [zone.server], egressUpstreamCa: [net.certPath] } });
  pushFixture(env.registry.backendHost, layout, "library/egress-clients", FIXTURE_TAG);
  await env.tenant(T);
  const ceiling = await env.srv.request("PUT", `/api/tenants/${T}/egress`, { body: { hosts: [PASS, INSPECT], ports: [443], allowAddresses: false } });
  assert.equal(ceiling.status, 200, JSON.stringify(ceiling.body));
  const secret = await env.srv.request("POST", `/api/tenants/${T}/secrets`, { body: { name: "API_TOKEN", value: SECRET_VALUE, hosts: [INSPECT] } });
  assert.ok(secret.status === 201 || secret.status === 200, JSON.stringify(secret.body));
  const created = await env.srv.request("POST", `/api/tenants/${T}/sandboxes`, {
    body: standaloneSandboxBody(
      IMAGE,
      "clients",
      { argv: ["sleep", "600"] },
      {
        network: {
          egress: [
            { host: PASS, protocol: "https" },
            { host: INSPECT, protocol: "https", methods: ["GET"] },
          ],
          secrets: ["API_TOKEN"],
        },
      },
    ),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  sandboxId = created.body.metadata.id;
  // Pulling and unpacking ~120 MiB takes a while on a loaded host.
  await env.waitFor(T, sandboxId, ["ready"], 180_000);
  // The upstream's own certificate, for the pass-through case only.
  const put = await run(`cat > /tmp/upstream.pem <<'EOF'\n${net.certPem}EOF`);
  assert.equal(put.code, 0, put.out);
});

after(async () => {
  const errors: unknown[] = [];
  const attempt = async (f: () => Promise<unknown>) => f().catch((e) => errors.push(e));
  if (env) await attempt(() => env!.close());
  if (zone) await attempt(() => zone!.close());
  if (net) await attempt(() => net!.close());
  if (errors.length > 0) throw errors[0];
});

async function run(cmd: string): Promise<{ out: string; code?: number }> {
  const r = await execCall(env!, T, sandboxId, { argv: ["sh", "-c", `{ ${cmd}\n} 2>&1`] });
  assert.equal(r.status, 200, JSON.stringify(r.error));
  return { out: r.stdout, code: r.exitCode };
}

/** One GET or POST with each client; prints `status=<n>` and the body. `trust` overrides the CA env var each client reads. */
function clients(url: string, method: "GET" | "POST", trust?: string): Record<string, string> {
  const py = `import requests; r = requests.request("${method}", "${url}", timeout=10); print("status=%d" % r.status_code); print(r.text)`;
  const js = `const r = await fetch("${url}", { method: "${method}" }); console.log("status=" + r.status); console.log(await r.text());`;
  return {
    curl: `${trust ? `CURL_CA_BUNDLE=${trust} ` : ""}curl -sS -X ${method} -m 10 -w 'status=%{http_code}\\n' ${url}`,
    python: `${trust ? `REQUESTS_CA_BUNDLE=${trust} ` : ""}python3 -c '${py}'`,
    node: `${trust ? `NODE_EXTRA_CA_CERTS=${trust} ` : ""}node --input-type=module -e '${js}'`,
  };
}

test("https pass-through: curl, python requests and node fetch reach the upstream, whose own certificate they see", { skip }, async () => {
  for (const [client, cmd] of Object.entries(clients(`https://${PASS}/`, "GET", "/tmp/upstream.pem"))) {
    const r = await run(cmd);
    assert.equal(r.code, 0, `${client}: ${r.out}`);
    assert.match(r.out, /status=200/, `${client}: ${r.out}`);
    assert.match(r.out, new RegExp(`hello from ${net!.hosts[0]!.replace(/\./g, "\\.")}:443`), `${client}: ${r.out}`);
  }
  // Untouched TLS: no secret was put in (the proxy never saw the request).
  assert.deepEqual(
    net!.lines("req").filter((l) => l.includes(`host=${PASS}`)),
    Array(3).fill(`req ${net!.hosts[0]}:443 host=${PASS} auth=undefined`),
    net!.log(),
  );
});

test("https inspected: each client trusts the per-server CA through the sandbox's env alone; the secret is put in; a POST is refused", { skip }, async () => {
  const before = net!.lines("req").length;
  for (const [client, cmd] of Object.entries(clients(`https://${INSPECT}/v1/models`, "GET"))) {
    const r = await run(cmd);
    assert.equal(r.code, 0, `${client}: ${r.out}`);
    assert.match(r.out, /status=200/, `${client}: ${r.out}`);
  }
  assert.deepEqual(net!.lines("req").slice(before), Array(3).fill(`req ${net!.hosts[0]}:443 host=${INSPECT} auth=Bearer ${SECRET_VALUE}`), net!.log());
  for (const [client, cmd] of Object.entries(clients(`https://${INSPECT}/v1/models`, "POST"))) {
    const r = await run(cmd);
    assert.match(r.out, /status=403/, `${client}: ${r.out}`);
  }
  assert.equal(net!.lines("req").length, before + 3, "a refused POST never reaches the upstream");
  // Without the env var the proxy's certificate is not trusted (so the assertions above can fail).
  const untrusted = await run(`env -u CURL_CA_BUNDLE -u SSL_CERT_FILE curl -sS -m 10 https://${INSPECT}/; echo rc=$?`);
  assert.match(untrusted.out, /rc=60/, untrusted.out);
});

test("the decision log has each client's connections with the rule that decided", { skip }, async () => {
  const log = (await env!.srv.request("GET", `/api/tenants/${T}/sandboxes/${sandboxId}/egress?limit=200`)).body.items as Array<Record<string, any>>;
  const passed = log.filter((r) => r.kind === "connect" && r.name === PASS && r.decision === "allowed");
  assert.equal(passed.length, 3, JSON.stringify(log));
  assert.ok(
    passed.every((r) => r.rule === "0"),
    JSON.stringify(passed),
  );
  const inspected = log.filter((r) => r.name === INSPECT && r.decision === "allowed" && r.rule === "1");
  assert.ok(inspected.length >= 3, JSON.stringify(log));
  assert.equal(log.filter((r) => r.name === INSPECT && r.decision === "denied" && /method POST/.test(r.reason ?? "")).length, 3, JSON.stringify(log));
});
