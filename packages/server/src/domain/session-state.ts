/**
 * Session lease lifecycle: the contract's states and the only transitions allowed.
 *
 *            ┌──── close (client, target stopped/deleted, tenant deleted) ───▶ closed
 *   open ────┤
 *            └──── expiresAt reached (scheduler, or at boot) ─────────────────▶ expired
 *
 * Renew keeps a lease `open` with a later deadline. `closed` and `expired`
 * are terminal: a closed lease is never reopened (open a new session), and
 * closing it again answers with the record unchanged.
 */
import { AppError } from "./errors.js";

export const SESSION_STATES = ["open", "closed", "expired"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const TERMINAL_SESSION_STATES: readonly SessionState[] = ["closed", "expired"];

const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  open: ["closed", "expired"],
  closed: [],
  expired: [],
};

/** Why a lease ended (`status.closeReason`); clients may also give their own text on close. */
export const CLOSE_REASONS = {
  client: "client_closed",
  expired: "expired",
  targetStopped: "target_stopped",
  targetDeleted: "target_deleted",
  tenantDeleted: "tenant_deleted",
  serviceForceDeleted: "service_force_deleted",
} as const;

export type OpenConditionReason = "LeaseActive" | "ClientClosed" | "LeaseExpired" | "TargetStopped";

const TARGET_REASONS: readonly string[] = [CLOSE_REASONS.targetStopped, CLOSE_REASONS.targetDeleted, CLOSE_REASONS.serviceForceDeleted];

export function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(id: string, from: SessionState, to: SessionState): void {
  if (!canTransition(from, to)) {
    throw new AppError("op.conflict", `session \`${id}\` is ${from} and cannot become ${to}; open a new session`, { detail: { from, to } });
  }
}

/** The `Open` condition's reason for a state and (for closed leases) why it closed. */
export function conditionReason(state: SessionState, closeReason: string | null): OpenConditionReason {
  if (state === "open") return "LeaseActive";
  if (state === "expired") return "LeaseExpired";
  return closeReason !== null && TARGET_REASONS.includes(closeReason) ? "TargetStopped" : "ClientClosed";
}
