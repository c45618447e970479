import { test } from "node:test";
import assert from "node:assert/strict";
import { AppError } from "./errors.js";
import { checkSecret, injectSecrets, placeholderEnv, type BoundSecret } from "./egress-secrets.js";

const OPENAI: BoundSecret = { name: "OPENAI", value: "sk-live-123", hosts: ["api.openai.test"], header: "Authorization", format: "Bearer {value}" };

test("the sandbox sees only placeholders", () => {
  assert.deepEqual(placeholderEnv(["OPENAI"]), ["NIMBUS_SECRET_OPENAI=nimbus-secret://OPENAI"]);
});

test("the value goes into requests to the secret's hosts only", () => {
  const sent: Array<[string, string]> = [["Authorization", "Bearer nimbus-secret://OPENAI"]];
  assert.deepEqual(injectSecrets(sent, "api.openai.test", [OPENAI]), { headers: [["Authorization", "Bearer sk-live-123"]], used: ["OPENAI"] });
  assert.deepEqual(injectSecrets(sent, "evil.test", [OPENAI]), { headers: sent, used: [] }, "elsewhere the placeholder goes as it is");
  assert.deepEqual(injectSecrets([["authorization", "nimbus-secret://OPENAI"]], "API.openai.test", [OPENAI]).headers, [
    ["authorization", "Bearer sk-live-123"],
  ]);
  assert.deepEqual(injectSecrets([["x-api-key", "nimbus-secret://OPENAI"]], "api.openai.test", [OPENAI]).headers, [
    ["x-api-key", "sk-live-123"],
    ["Authorization", "Bearer sk-live-123"],
  ]);
  assert.deepEqual(injectSecrets([], "api.openai.test", [OPENAI]).headers, [["Authorization", "Bearer sk-live-123"]], "an absent header is added");
  const wildcard = { ...OPENAI, hosts: ["*.openai.test"] };
  assert.equal(injectSecrets([], "openai.test", [wildcard]).used.length, 0, "a wildcard never matches the bare suffix");
});

test("secrets are checked as they are stored", () => {
  const bad: Array<[Parameters<typeof checkSecret>[0], string]> = [
    [{ name: "openai", value: "x", hosts: ["a.test"] }, "name"],
    [{ name: "OPENAI", value: "x\r\nHost: evil", hosts: ["a.test"] }, "value"],
    [{ name: "OPENAI", value: "x", hosts: [] }, "hosts"],
    [{ name: "OPENAI", value: "x", hosts: ["*.test"] }, "hosts[0]"],
    [{ name: "OPENAI", value: "x", hosts: ["a.test"], header: "Bad Header" }, "header"],
    [{ name: "OPENAI", value: "x", hosts: ["a.test"], format: "Bearer" }, "format"],
  ];
  for (const [input, field] of bad) {
    assert.throws(
      () => checkSecret(input),
      (e: unknown) => e instanceof AppError && (e.detail as { field: string }).field === field,
      field,
    );
  }
  checkSecret({ name: "OPENAI", value: "sk", hosts: ["api.openai.test", "*.openai.test"] });
});
