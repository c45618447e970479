import { test } from "node:test";
import assert from "node:assert/strict";
import { compileRules } from "./egress-policy.js";
import type { EgressRecord } from "./egress-log.js";
import { EgressState } from "./egress-state.js";

function world(now = { t: 1_000_000 }) {
  const records: EgressRecord[] = [];
  const state = new EgressState({
    log: { record: (r) => void records.push(r) },
    classify: (a) => (a.startsWith("10.") ? "private" : a.startsWith("169.254.") ? "link-local" : undefined),
    now: () => now.t,
  });
  state.set("100.96.0.2", {
    tenantId: "demo",
    sandboxId: "sb-1",
    rules: compileRules(
      [
        { host: "api.example.test", protocol: "https" },
        { host: "docs.example.test", protocol: "https", pathPrefixes: ["/v1/"] },
        { host: "10.0.0.5", protocol: "tcp", port: 5432 },
      ],
      { allowAddresses: true },
    ),
    secrets: [{ name: "API", value: "s3cret", hosts: ["api.example.test"], header: "Authorization", format: "Bearer {value}" }],
  });
  return { state, records, now };
}

test("DNS: names the rules allow, logged either way; unknown clients get nothing", () => {
  const { state, records } = world();
  assert.equal(state.allowsName("100.96.0.2", "api.example.test"), true);
  assert.equal(state.allowsName("100.96.0.2", "evil.example.test"), false);
  assert.equal(state.allowsName("100.96.0.9", "api.example.test"), false);
  assert.deepEqual(
    records.map((r) => [r.kind, r.name, r.decision]),
    [
      ["dns", "api.example.test", "allowed"],
      ["dns", "evil.example.test", "denied"],
    ],
  );
});

test("connections: only to addresses the name resolved to, until the TTL (and a grace) runs out", () => {
  const { state, now } = world();
  const attempt = { client: "100.96.0.2", address: "198.18.0.10", port: 443, sni: "api.example.test" };
  assert.equal(state.decide(attempt).allowed, false, "not resolved yet");
  state.resolved("100.96.0.2", "api.example.test", ["198.18.0.10"], 60);
  const v = state.decide(attempt);
  assert.equal(v.allowed, true);
  assert.equal(v.allowed && v.inspect, true, "a secret is bound to the host: inspect");
  assert.deepEqual(v.allowed && v.secrets.map((s) => s.name), ["API"]);
  now.t += 60_000 + 30_001;
  assert.equal(state.decide(attempt).allowed, false, "expired");
});

test("always-refused classes win over a rule that names them; every denial is logged with its class", () => {
  const { state, records } = world();
  const v = state.decide({ client: "100.96.0.2", address: "10.0.0.5", port: 5432 });
  assert.deepEqual(v, { allowed: false, reason: "always refused: private" });
  assert.equal(records.at(-1)!.rule, "always_refused:private");
  assert.equal(records.at(-1)!.decision, "denied");
});

test("a path-narrowed rule needs inspection; allowed connections are logged with their traffic when they end", () => {
  const { state, records } = world();
  state.resolved("100.96.0.2", "docs.example.test", ["198.18.0.11"], 60);
  const attempt = { client: "100.96.0.2", address: "198.18.0.11", port: 443, sni: "docs.example.test" };
  const v = state.decide(attempt);
  assert.ok(v.allowed && v.inspect && v.secrets.length === 0);
  if (v.allowed) state.finished(attempt, v, { bytesUp: 100, bytesDown: 2000, durationMs: 12 });
  assert.deepEqual([records.at(-1)!.decision, records.at(-1)!.rule, records.at(-1)!.bytesDown], ["allowed", "1", 2000]);
});
