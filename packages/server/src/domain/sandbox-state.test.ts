import { test } from "node:test";
import assert from "node:assert/strict";
import { assertTransition, canTransition, SANDBOX_STATES, statusFields } from "./sandbox-state.js";

test("terminal states have no way out", () => {
  for (const to of SANDBOX_STATES) {
    assert.equal(canTransition("stopped", to), false);
    assert.equal(canTransition("failed", to), false);
  }
});

test("an illegal transition is an error, not a silent overwrite", () => {
  assert.throws(() => assertTransition("x", "stopped", "ready"), /cannot go from stopped to ready/);
  assert.throws(() => assertTransition("x", "pending", "ready"), /op\.conflict|cannot go/);
});

test("every state derives readiness and health per the contract table", () => {
  assert.deepEqual(statusFields("ready"), { readiness: "ready", health: "healthy", ready: true });
  assert.deepEqual(statusFields("starting"), { readiness: "not_ready", health: "unknown", ready: false });
  assert.deepEqual(statusFields("stopped"), { readiness: "stopped", health: "unknown", ready: false });
  assert.deepEqual(statusFields("failed"), { readiness: "failed", health: "unhealthy", ready: false });
});
