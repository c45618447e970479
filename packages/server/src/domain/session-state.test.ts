import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "./errors.js";
import { assertTransition, canTransition, conditionReason, SESSION_STATES } from "./session-state.js";

test("open ends as closed or expired; both are terminal", () => {
  assert.ok(canTransition("open", "closed"));
  assert.ok(canTransition("open", "expired"));
  for (const from of ["closed", "expired"] as const) {
    for (const to of SESSION_STATES) assert.equal(canTransition(from, to), false, `${from} → ${to}`);
  }
  assert.throws(
    () => assertTransition("s", "expired", "closed"),
    (e) => e instanceof AppError && e.code === "op.conflict",
  );
});

test("the Open condition's reason follows the state and why it closed", () => {
  assert.equal(conditionReason("open", null), "LeaseActive");
  assert.equal(conditionReason("expired", "expired"), "LeaseExpired");
  assert.equal(conditionReason("closed", "client_closed"), "ClientClosed");
  assert.equal(conditionReason("closed", "done"), "ClientClosed");
  assert.equal(conditionReason("closed", "target_stopped"), "TargetStopped");
  assert.equal(conditionReason("closed", "target_deleted"), "TargetStopped");
});
