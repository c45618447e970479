/**
 * Wire types of sessions (contract §5): targets, the session resource and
 * the NDJSON channel frames.
 */
/** Generated from the server's schemas: see ../wire.ts. */
import type { SessionChannel, TargetSnapshot, SessionState, Session, ChannelFrame, ExecFrame, Heartbeat } from "../wire.js";
export type { SessionChannel, TargetSnapshot, SessionState, Session, ChannelFrame, ExecFrame, Heartbeat };

/**
 * What a session attaches to, externally tagged.
 *
 * @example
 * const target: SessionTarget = { sandbox: { id: "agent-task-01h..." } };
 */
export type SessionTarget = { sandbox: { id: string } } | { service: { name: string } };
