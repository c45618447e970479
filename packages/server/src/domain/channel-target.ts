/**
 * Which running sandbox a channel request talks to, and whether it may: the
 * sandbox-scoped routes need a ready sandbox of the route tenant; the
 * session-scoped ones also need an open session that was opened with the
 * channel. Shared by the exec and files routes.
 */
import { AppError } from "./errors.js";
import type { Sandboxes } from "./sandboxes.js";
import type { Sessions } from "./sessions.js";
import type { SandboxRow } from "../store/sandbox-store.js";

export function requireReadySandbox(sandboxes: Sandboxes, tenantId: string, id: string): SandboxRow {
  const row = sandboxes.get(tenantId, id);
  if (row.lifecycleState !== "ready") {
    throw new AppError("op.conflict", `sandbox \`${id}\` is ${row.lifecycleState}; this needs a ready sandbox`, {
      detail: { lifecycleState: row.lifecycleState },
    });
  }
  return row;
}

export function requireSessionChannel(sessions: Sessions, sandboxes: Sandboxes, tenantId: string, sessionId: string, channel: string): SandboxRow {
  const session = sessions.get(tenantId, sessionId);
  if (session.lifecycleState !== "open") {
    throw new AppError("op.conflict", `session \`${sessionId}\` is ${session.lifecycleState}; open a new session`, {
      detail: { lifecycleState: session.lifecycleState, closeReason: session.closeReason },
    });
  }
  if (!session.channels.some((c) => c === channel)) {
    throw new AppError("op.conflict", `session \`${sessionId}\` was not opened with the \`${channel}\` channel (it has ${session.channels.join(", ")})`, {
      detail: { channels: session.channels },
    });
  }
  return requireReadySandbox(sandboxes, tenantId, session.targetSandboxId);
}
