import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeBackend } from "../runtime/fake/fake-backend.js";
import { fakeContainerSpec } from "../testing/fake-container-spec.js";
import type { EgressInspection } from "../runtime/backend.js";
import { DEFAULT_CEILING, type EgressCeiling } from "./egress-ceiling.js";
import type { EgressLog, EgressRecord } from "./egress-log.js";
import type { BoundSecret } from "./egress-secrets.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { SandboxEgress } from "./sandbox-egress.js";
import { AppError } from "./errors.js";
import { refusedClass } from "./egress-address-class.js";

const SECRET: BoundSecret = { name: "API", value: "s3cret", hosts: ["api.example.test"], header: "Authorization", format: "Bearer {value}" };

function world(ceiling: EgressCeiling = DEFAULT_CEILING) {
  const runtime = new FakeBackend();
  const records: EgressRecord[] = [];
  const log = { record: (r: EgressRecord) => void records.push(r), page: () => [], count: () => 0, forget: () => undefined } as unknown as EgressLog;
  const egress = new SandboxEgress({ runtime, log, ceilingOf: () => ceiling, secrets: { boundFor: (_t, names) => (names.includes("API") ? [SECRET] : []) } });
  return { runtime, records, egress, hooks: runtime.egress.hooks! };
}

const spec = (network?: SandboxSpec["network"]) => ({ network }) as SandboxSpec;

test("no rules: nothing to check, nothing registered; secrets without rules are a 400", () => {
  const { egress } = world();
  assert.equal(egress.check("t", spec()), undefined);
  assert.equal(egress.check("t", spec({ egress: [] })), undefined);
  assert.throws(
    () => egress.check("t", spec({ secrets: ["API"] })),
    (e: AppError) => e.code === "op.invalid_input" && /needs egress rules/.test(e.message),
  );
});

test("rules are checked under the ceiling, naming the rule; unknown secrets are named too", () => {
  const { egress } = world();
  assert.throws(
    () =>
      egress.check(
        "t",
        spec({
          egress: [
            { host: "a.test", protocol: "http" },
            { host: "b.test", protocol: "tcp", port: 22 },
          ],
        }),
      ),
    (e: AppError) => /spec\.network\.egress\[1\]/.test(e.message),
  );
  assert.throws(
    () => egress.check("t", spec({ egress: [{ host: "a.test", protocol: "http" }], secrets: ["API", "NOPE"] })),
    (e: AppError) => /spec\.network\.secrets\[1\].*NOPE/.test(e.message),
  );
  const checked = egress.check("t", spec({ egress: [{ host: "a.test", protocol: "http" }], secrets: ["API"] }))!;
  assert.deepEqual(egress.env(checked), ["NIMBUS_SECRET_API=nimbus-secret://API"]);
});

test("the runtime's hooks answer for a registered address only, until it is unregistered", async () => {
  const { runtime, egress, hooks, records } = world();
  const checked = egress.check("t", spec({ egress: [{ host: "api.example.test", protocol: "http" }] }))!;
  await runtime.create(fakeContainerSpec("sb1", { network: { egress: true } }));
  egress.register("t", "sb1", checked);
  const client = runtime.egress.addressOf("sb1")!;
  assert.equal(hooks.allowsName(client, "api.example.test"), true);
  assert.equal(hooks.allowsName(client, "other.test"), false);
  hooks.resolved(client, "api.example.test", ["198.18.0.2"], 60);
  const c = { client, address: "198.18.0.2", port: 80, host: "api.example.test", protocol: "http" as const };
  assert.equal(await hooks.decide(c), true);
  hooks.finished!(c, { bytesUp: 10, bytesDown: 20, durationMs: 3 });
  assert.equal(await hooks.decide({ ...c, port: 8080 }), false);
  assert.equal(await hooks.decide({ ...c, address: "10.1.2.3" }), false);
  assert.deepEqual(
    records.filter((r) => r.kind === "connect").map((r) => [r.decision, r.rule, r.port, r.bytesDown]),
    [
      ["allowed", "0", 80, 20],
      ["denied", null, 8080, null],
      ["denied", "always_refused:private", 80, null],
    ],
  );
  egress.unregister("sb1");
  assert.equal(hooks.allowsName(client, "api.example.test"), false);
  assert.equal(await hooks.decide(c), false);
});

test("inspection: https with methods or a secret comes back as checks and header rewriting; plain http with path prefixes as checks only", async () => {
  const { runtime, egress, hooks, records } = world();
  const checked = egress.check(
    "t",
    spec({
      egress: [
        { host: "api.example.test", protocol: "https", methods: ["GET"] },
        { host: "plain.example.test", protocol: "http", pathPrefixes: ["/v1/"] },
      ],
      secrets: ["API"],
    }),
  )!;
  await runtime.create(fakeContainerSpec("sb2", { network: { egress: true } }));
  egress.register("t", "sb2", checked);
  const client = runtime.egress.addressOf("sb2")!;
  hooks.resolved(client, "api.example.test", ["198.18.0.2"], 60);
  hooks.resolved(client, "plain.example.test", ["198.18.0.3"], 60);
  const v = (await hooks.decide({ client, address: "198.18.0.2", port: 443, sni: "api.example.test", protocol: "tls" })) as EgressInspection;
  assert.equal(typeof v, "object");
  assert.equal(v.allowRequest({ method: "GET", path: "/x", host: "api.example.test" }), undefined);
  assert.match(v.allowRequest({ method: "POST", path: "/x", host: "api.example.test" })!, /method POST/);
  assert.deepEqual(v.rewriteHeaders!([["Authorization", "Bearer nimbus-secret://API"]], { method: "GET", path: "/", host: "api.example.test" }), [
    ["Authorization", "Bearer s3cret"],
  ]);
  // Plain http under an http rule: checked per request, never rewritten (secrets go over TLS only).
  const plain = (await hooks.decide({ client, address: "198.18.0.3", port: 80, host: "plain.example.test", protocol: "http" })) as EgressInspection;
  assert.equal(typeof plain, "object");
  assert.equal(plain.allowRequest({ method: "GET", path: "/v1/models", host: "plain.example.test" }), undefined);
  assert.match(plain.allowRequest({ method: "GET", path: "/admin", host: "plain.example.test" })!, /path \/admin/);
  assert.equal(plain.rewriteHeaders, undefined);
  // TLS on the http rule's port is not what the rule names: refused, not spliced unchecked.
  assert.equal(await hooks.decide({ client, address: "198.18.0.3", port: 80, sni: "plain.example.test", protocol: "tls" }), false);
  assert.match(records.at(-1)!.reason!, /only inspected http and https/);
});

test("the always-refused classes, and what is left to the rules", () => {
  for (const [a, c] of [
    ["127.0.0.1", "loopback"],
    ["169.254.169.254", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["169.254.77.1", "link_local"],
    ["10.255.77.1", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared"],
    ["224.0.0.1", "multicast"],
    ["::ffff:10.0.0.1", "private"],
    ["fc00::1", "private"],
    ["0.0.0.0", "unspecified"],
    ["nope", "invalid"],
  ]) {
    assert.equal(refusedClass(a!), c, a);
  }
  for (const a of ["198.18.0.2", "93.184.216.34", "2606:4700::1"]) assert.equal(refusedClass(a), undefined, a);
});
