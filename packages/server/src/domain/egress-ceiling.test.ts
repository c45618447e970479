import { test } from "node:test";
import assert from "node:assert/strict";
import { AppError } from "./errors.js";
import { checkCeiling, compileUnderCeiling, DEFAULT_CEILING, type EgressCeiling } from "./egress-ceiling.js";
import type { EgressRule } from "./egress-policy.js";

const refusedAt = (rules: EgressRule[], ceiling: EgressCeiling) => {
  try {
    compileUnderCeiling(rules, ceiling);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof AppError && e.code === "op.invalid_input");
    return (e.detail as { field: string }).field;
  }
};

test("the default ceiling: any host name on 80 and 443, no addresses", () => {
  assert.equal(
    refusedAt(
      [
        { host: "api.example.test", protocol: "https" },
        { host: "*.example.test", protocol: "http" },
      ],
      DEFAULT_CEILING,
    ),
    undefined,
  );
  assert.equal(
    refusedAt(
      [
        { host: "api.example.test", protocol: "https" },
        { host: "db.example.test", protocol: "tcp", port: 5432 },
      ],
      DEFAULT_CEILING,
    ),
    "spec.network.egress[1]",
  );
  assert.equal(refusedAt([{ host: "198.18.0.1", protocol: "https" }], DEFAULT_CEILING), "spec.network.egress[0]");
});

test("a narrow ceiling: names and wildcards under it only, ports by range", () => {
  const ceiling = checkCeiling({ hosts: ["*.corp.test", "pypi.org"], ports: [443, "8000-8099"], allowAddresses: false });
  assert.equal(refusedAt([{ host: "git.corp.test", protocol: "https" }], ceiling), undefined);
  assert.equal(refusedAt([{ host: "*.eu.corp.test", protocol: "https" }], ceiling), undefined);
  assert.equal(refusedAt([{ host: "*.corp.test", protocol: "tcp", port: 8080 }], ceiling), undefined);
  assert.equal(
    refusedAt(
      [
        { host: "pypi.org", protocol: "https" },
        { host: "corp.test", protocol: "https" },
      ],
      ceiling,
    ),
    "spec.network.egress[1]",
    "the bare suffix is not under *.corp.test",
  );
  assert.equal(refusedAt([{ host: "*.test", protocol: "https" }], ceiling), "spec.network.egress[0]");
  assert.equal(refusedAt([{ host: "git.corp.test", protocol: "tcp", port: 8100 }], ceiling), "spec.network.egress[0]");
});

test("addresses only where the ceiling allows them, and only inside its CIDRs", () => {
  const ceiling = checkCeiling({ hosts: ["198.18.0.0/24"], ports: ["1-65535"], allowAddresses: true });
  assert.equal(
    refusedAt(
      [
        { host: "198.18.0.7", protocol: "tcp", port: 22 },
        { host: "198.18.0.0/25", protocol: "tcp", port: 22 },
      ],
      ceiling,
    ),
    undefined,
  );
  assert.equal(refusedAt([{ host: "198.18.1.7", protocol: "tcp", port: 22 }], ceiling), "spec.network.egress[0]");
  assert.equal(refusedAt([{ host: "198.18.0.0/16", protocol: "tcp", port: 22 }], ceiling), "spec.network.egress[0]");
  assert.equal(refusedAt([{ host: "api.example.test", protocol: "https" }], ceiling), "spec.network.egress[0]", "no host names in this ceiling");
});

test("ceilings are checked as the operator sets them", () => {
  for (const [c, field] of [
    [{ hosts: ["198.18.0.0/24"], ports: [443], allowAddresses: false }, "hosts[0]"],
    [{ hosts: ["*.test"], ports: [443], allowAddresses: false }, "hosts[0]"],
    [{ hosts: ["*"], ports: [70000], allowAddresses: false }, "ports[0]"],
    [{ hosts: ["*"], ports: ["90-80"], allowAddresses: false }, "ports[0]"],
  ] as Array<[EgressCeiling, string]>) {
    assert.throws(
      () => checkCeiling(c),
      (e: unknown) => e instanceof AppError && (e.detail as { field: string }).field === field,
      field,
    );
  }
});
