import { test } from "node:test";
import assert from "node:assert/strict";
import { assertTransition, backoffMs, canTransition, lifecycleFields, SERVICE_STATES, shouldRestart } from "./service-state.js";

test("declared services never move; stopped and failed only start", () => {
  for (const to of SERVICE_STATES) {
    assert.equal(canTransition("declared", to), false);
    assert.equal(canTransition("stopped", to), to === "starting");
    assert.equal(canTransition("failed", to), to === "starting");
  }
  assert.throws(() => assertTransition("web", "stopped", "running"), /cannot go from stopped to running/);
});

test("the view's lifecycle fields: ready only when running, health from the probe", () => {
  assert.deepEqual(lifecycleFields("running", undefined), { lifecycleState: "ready", readiness: "ready", health: "healthy" });
  assert.deepEqual(lifecycleFields("running", false), { lifecycleState: "ready", readiness: "ready", health: "unhealthy" });
  assert.equal(lifecycleFields("restarting", undefined).lifecycleState, "starting", "a restart in backoff is not a failure to waiters");
  assert.equal(lifecycleFields("failed", undefined).lifecycleState, "failed");
  assert.equal(lifecycleFields("declared", undefined).lifecycleState, "declared");
});

test("restart policy and exponential backoff", () => {
  assert.equal(shouldRestart("on_failure", true, 0, 5), true);
  assert.equal(shouldRestart("on_failure", false, 0, 5), false);
  assert.equal(shouldRestart("always", false, 0, 5), true);
  assert.equal(shouldRestart("never", true, 0, 5), false);
  assert.equal(shouldRestart("always", true, 5, 5), false, "maxRestarts bounds every policy");
  assert.deepEqual(
    [0, 1, 2, 3].map((n) => backoffMs(n)),
    [250, 500, 1000, 2000],
  );
  assert.equal(backoffMs(50), 30_000);
});
