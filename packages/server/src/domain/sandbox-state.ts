/**
 * Sandbox lifecycle: the contract's states and the only transitions allowed.
 *
 *   pending ──pulled──▶ starting ──started──▶ ready ──stop──▶ stopping ──exited──▶ stopped
 *      │                   │                    │                                    ▲
 *      │                   │                    └──────── process exits 0 ───────────┘
 *      └───────────────────┴────────────────────┴── any failure / non-zero exit ──▶ failed
 *
 * pending and starting may also go straight to stopping (stop during launch).
 * A lifetime that runs out (TTL or idle timeout, sandbox-lifetimes.ts) takes the
 * same stop path: → stopping → stopped, with reason `expired` instead of
 * `stopped` (then delete, when `onExpire` is `delete`).
 * `stopped` and `failed` are terminal; only delete leaves them.
 */
import type { Health, Readiness } from "@nimbus/nimbus";
import { AppError } from "./errors.js";

export const SANDBOX_STATES = ["pending", "starting", "ready", "stopping", "stopped", "failed"] as const;
export type SandboxState = (typeof SANDBOX_STATES)[number];

export const ACTIVE_STATES: readonly SandboxState[] = ["pending", "starting", "ready", "stopping"];
export const TERMINAL_STATES: readonly SandboxState[] = ["stopped", "failed"];

export const SANDBOX_REASONS = ["pull_failed", "start_failed", "exited", "oom_killed", "stopped", "lost", "expired"] as const;
export type SandboxReason = (typeof SANDBOX_REASONS)[number];

const TRANSITIONS: Record<SandboxState, readonly SandboxState[]> = {
  pending: ["starting", "stopping", "failed"],
  starting: ["ready", "stopping", "stopped", "failed"],
  ready: ["stopping", "stopped", "failed"],
  stopping: ["stopped", "failed"],
  stopped: [],
  failed: [],
};

export function canTransition(from: SandboxState, to: SandboxState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(id: string, from: SandboxState, to: SandboxState): void {
  if (!canTransition(from, to)) {
    throw new AppError("op.conflict", `sandbox \`${id}\` cannot go from ${from} to ${to}`, { detail: { from, to } });
  }
}

/** The derived status fields of the contract's lifecycle table. */
export function statusFields(state: SandboxState): { readiness: Readiness; health: Health; ready: boolean } {
  switch (state) {
    case "ready":
      return { readiness: "ready", health: "healthy", ready: true };
    case "stopped":
      return { readiness: "stopped", health: "unknown", ready: false };
    case "failed":
      return { readiness: "failed", health: "unhealthy", ready: false };
    default:
      return { readiness: "not_ready", health: "unknown", ready: false };
  }
}

export const CONDITION_REASON: Record<SandboxState, string> = {
  pending: "Pulling",
  starting: "Starting",
  ready: "Running",
  stopping: "Stopping",
  stopped: "Stopped",
  failed: "Failed",
};
