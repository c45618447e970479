import { test } from "node:test";
import assert from "node:assert/strict";
import { AppError } from "./errors.js";
import { allowsName, compileRules, decide, normaliseName, type EgressRule } from "./egress-policy.js";

const compile = (rules: EgressRule[], allowAddresses = false) => compileRules(rules, { allowAddresses });

test("names are normalised; labels are checked", () => {
  assert.equal(normaliseName("API.Example.COM."), "api.example.com");
  for (const bad of ["", "-a.com", "a..com", "a_b.com", "x".repeat(64) + ".com", "a b.com"]) assert.equal(normaliseName(bad), undefined, bad);
});

test("rules are checked at the edge: each problem names the rule", () => {
  const cases: Array<[EgressRule, RegExp]> = [
    [{ host: "db.example.com", protocol: "tcp" }, /needs a port/],
    [{ host: "example.com", protocol: "https", port: 70000 }, /1 to 65535/],
    [{ host: "example.com", protocol: "tcp", port: 22, methods: ["GET"] }, /http and https/],
    [{ host: "example.com", protocol: "http", methods: ["get"] }, /HTTP method/],
    [{ host: "example.com", protocol: "http", pathPrefixes: ["v1"] }, /must start with/],
    [{ host: "*.com", protocol: "https" }, /two labels/],
    [{ host: "*", protocol: "https" }, /neither|two labels/],
    [{ host: "exa mple.com", protocol: "https" }, /neither/],
    [{ host: "198.18.0.1", protocol: "https" }, /host names only/],
    [{ host: "198.18.0.0/33", protocol: "https" }, /neither/],
  ];
  for (const [rule, why] of cases) {
    assert.throws(
      () => compile([{ host: "ok.example.com", protocol: "https" }, rule]),
      (e: unknown) =>
        e instanceof AppError && e.code === "op.invalid_input" && why.test(e.message) && (e.detail as { field: string }).field === "spec.network.egress[1]",
      JSON.stringify(rule),
    );
  }
});

test("ports default to 443 for https and 80 for http, and are exact", () => {
  const rules = compile([
    { host: "a.example.test", protocol: "https" },
    { host: "b.example.test", protocol: "http" },
  ]);
  assert.deepEqual(
    rules.map((r) => r.port),
    [443, 80],
  );
  const facts = { address: "198.18.0.10", resolvedNames: ["a.example.test"], sni: "a.example.test" };
  assert.equal(decide(rules, { ...facts, port: 443 }).allowed, true);
  assert.equal(decide(rules, { ...facts, port: 8443 }).allowed, false);
});

test("*.suffix matches one or more labels, never the bare suffix", () => {
  const rules = compile([{ host: "*.example.test", protocol: "https" }]);
  assert.equal(allowsName(rules, "a.example.test"), true);
  assert.equal(allowsName(rules, "a.b.example.test"), true);
  assert.equal(allowsName(rules, "example.test"), false);
  assert.equal(allowsName(rules, "badexample.test"), false);
  assert.equal(allowsName(rules, "a.example.test.evil"), false);
});

test("an allowed name on an address it did not resolve to is fronting, and so is SNI ≠ Host", () => {
  const rules = compile([{ host: "api.example.test", protocol: "https" }]);
  assert.deepEqual(decide(rules, { address: "198.18.0.10", port: 443, resolvedNames: [], sni: "api.example.test" }).allowed, false);
  assert.deepEqual(
    decide(rules, { address: "198.18.0.10", port: 443, resolvedNames: ["api.example.test"], sni: "api.example.test", host: "other.example.test" }).allowed,
    false,
  );
  const ok = decide(rules, { address: "198.18.0.10", port: 443, resolvedNames: ["api.example.test"], sni: "API.example.test." });
  assert.equal(ok.allowed, true);
  assert.equal(ok.allowed && ok.name, "api.example.test");
});

test("a name rule never opens an address nobody resolved, and an https rule needs a claimed name", () => {
  const rules = compile([{ host: "api.example.test", protocol: "https" }]);
  assert.equal(decide(rules, { address: "198.18.0.99", port: 443, resolvedNames: [] }).allowed, false);
  assert.equal(
    decide(rules, { address: "198.18.0.10", port: 443, resolvedNames: ["api.example.test"] }).allowed,
    false,
    "no SNI: not an https rule's connection",
  );
});

test("a tcp rule opens only the addresses its name resolved to, on its port", () => {
  const rules = compile([{ host: "db.example.test", protocol: "tcp", port: 5432 }]);
  assert.equal(decide(rules, { address: "198.18.0.20", port: 5432, resolvedNames: ["db.example.test"] }).allowed, true);
  assert.equal(decide(rules, { address: "198.18.0.21", port: 5432, resolvedNames: [] }).allowed, false);
  assert.equal(decide(rules, { address: "198.18.0.20", port: 5433, resolvedNames: ["db.example.test"] }).allowed, false);
});

test("address rules match literal addresses and CIDRs when the ceiling allows them", () => {
  const rules = compile(
    [
      { host: "198.18.0.0/24", protocol: "tcp", port: 80 },
      { host: "2001:db8::1", protocol: "tcp", port: 80 },
    ],
    true,
  );
  assert.equal(decide(rules, { address: "198.18.0.77", port: 80, resolvedNames: [] }).allowed, true);
  assert.equal(decide(rules, { address: "198.18.1.77", port: 80, resolvedNames: [] }).allowed, false);
  assert.equal(decide(rules, { address: "2001:db8::1", port: 80, resolvedNames: [] }).allowed, true);
  assert.equal(decide([], { address: "198.18.0.77", port: 80, resolvedNames: [] }).allowed, false, "no rules: nothing");
});
