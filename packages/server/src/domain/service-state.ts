/**
 * Service lifecycle: the service's own states (the runtime view's `state`)
 * and the only transitions allowed. The backing sandbox has its own table
 * (sandbox-state.ts); a service outlives many sandboxes.
 *
 *                 ┌──────────────── start ────────────────┐
 *                 ▼                                        │
 *   stopped ──start──▶ starting ──sandbox ready, probe ok──▶ running
 *      ▲                 │  ▲                                 │
 *      │                 │  └──── backoff over ── restarting ◀┤ sandbox exited,
 *      │                 │                           ▲        │ policy allows
 *      │                 └── sandbox exited ─────────┘        │
 *      │                                                      │
 *      └── stopping ◀── stop (from starting/running/restarting)
 *
 *   starting/running/restarting ── exited, policy refuses or maxRestarts ──▶ failed ──start──▶ starting
 *   starting/running ── exited 0 under on_failure/never ──▶ stopped
 *   declared: builtIn/external backends; Nimbus records them and runs nothing.
 */
import type { ServiceView } from "@nimbus/nimbus";
import { AppError } from "./errors.js";

export const SERVICE_STATES = ["declared", "stopped", "starting", "running", "restarting", "stopping", "failed"] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** States in which the supervisor keeps a sandbox alive under the name. */
export const SUPERVISED_STATES: readonly ServiceState[] = ["starting", "running", "restarting"];

const TRANSITIONS: Record<ServiceState, readonly ServiceState[]> = {
  declared: [],
  stopped: ["starting"],
  starting: ["running", "restarting", "stopping", "stopped", "failed"],
  running: ["restarting", "stopping", "stopped", "failed"],
  restarting: ["starting", "stopping", "failed"],
  stopping: ["stopped"],
  failed: ["starting"],
};

export function canTransition(from: ServiceState, to: ServiceState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(name: string, from: ServiceState, to: ServiceState): void {
  if (!canTransition(from, to)) {
    throw new AppError("op.conflict", `service \`${name}\` cannot go from ${from} to ${to}`, { detail: { from, to } });
  }
}

/** The view's sandbox-style lifecycle fields, derived from the service state and probe health. */
export function lifecycleFields(state: ServiceState, healthy: boolean | undefined): Pick<ServiceView, "lifecycleState" | "readiness" | "health"> {
  switch (state) {
    case "declared":
      return { lifecycleState: "declared", readiness: "unknown", health: "unknown" };
    case "running":
      return { lifecycleState: "ready", readiness: "ready", health: healthy === false ? "unhealthy" : "healthy" };
    case "starting":
    case "restarting":
      return { lifecycleState: "starting", readiness: "not_ready", health: "unknown" };
    case "stopping":
      return { lifecycleState: "stopping", readiness: "not_ready", health: "unknown" };
    case "stopped":
      return { lifecycleState: "stopped", readiness: "stopped", health: "unknown" };
    case "failed":
      return { lifecycleState: "failed", readiness: "failed", health: "unhealthy" };
  }
}

export type RestartPolicy = "never" | "on_failure" | "always";
export const DEFAULT_RESTART_POLICY: RestartPolicy = "on_failure";
export const DEFAULT_MAX_RESTARTS = 5;
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 30_000;

/** 250 ms × 2^n, capped at 30 s: the wait before restart number n+1. */
export function backoffMs(restartsSoFar: number, baseMs = BACKOFF_BASE_MS): number {
  return Math.min(BACKOFF_CAP_MS, baseMs * 2 ** Math.min(restartsSoFar, 20));
}

/** Whether an exited sandbox is replaced: `failed` means a non-zero exit, OOM or a lost container. */
export function shouldRestart(policy: RestartPolicy, failed: boolean, restartsSoFar: number, maxRestarts: number): boolean {
  if (restartsSoFar >= maxRestarts) return false;
  return policy === "always" || (policy === "on_failure" && failed);
}
