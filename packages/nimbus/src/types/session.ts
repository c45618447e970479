/**
 * Wire types of sessions (contract §5): targets, the session resource and
 * the NDJSON channel frames.
 */
import type { Condition, ResourceMetadata, Timestamp, WireError } from "./common.js";
import type { ServiceBackendKind } from "./service.js";

/**
 * A channel a session may carry. Sandbox targets allow all three.
 *
 * @example
 * const channels: SessionChannel[] = ["stdio"];
 */
export type SessionChannel = "stdio" | "files" | "exec";

/**
 * What a session attaches to, externally tagged.
 *
 * @example
 * const target: SessionTarget = { sandbox: { id: "agent-task-01h..." } };
 */
export type SessionTarget = { sandbox: { id: string } } | { service: { name: string } };

/**
 * What the session pinned at open time.
 *
 * @example
 * if ("sandbox" in snap) console.log(snap.sandbox.id, snap.sandbox.generation);
 */
export type TargetSnapshot =
  | { sandbox: { id: string; generation: number; profile: string; backend: string } }
  | { service: { name: string; generation: number; backend: ServiceBackendKind; sandboxId: string } };

/**
 * Lifecycle of a session lease.
 *
 * @example
 * const live = (s: SessionState) => s === "open";
 */
export type SessionState = "open" | "closed" | "expired";

/**
 * A session resource.
 *
 * @example
 * const s: Session = await nimbus.sessions.get({ id });
 * console.log(s.status.lifecycleState, s.spec.expiresAt);
 */
export interface Session {
  metadata: ResourceMetadata;
  spec: {
    target: SessionTarget;
    targetSnapshot: TargetSnapshot;
    channels: SessionChannel[];
    expiresAt: Timestamp;
  };
  status: {
    lifecycleState: SessionState;
    expiresAt: Timestamp;
    closedAt?: Timestamp;
    closeReason?: string;
    conditions: Condition[];
  };
}

/**
 * A frame of `GET /api/sessions/{id}/channels/{channel}/stream` with
 * `encoding=base64`. `cursor` is the byte offset after the chunk.
 *
 * @example
 * if (frame.kind === "stdout") out.write(Buffer.from(frame.data, "base64"));
 */
export type ChannelFrame =
  | {
      kind: "opened";
      channel: string;
      targetGeneration: number;
      /** Where the output that follows starts. */
      cursor?: number;
      /** The oldest offset still kept (stdio). */
      oldestCursor?: number;
      /** The offset after the newest output when the channel opened (stdio). */
      head?: number;
      /** The cursor asked for, when it was past `head` and the channel started at `head` instead. */
      requestedCursor?: number;
    }
  /**
   * Output in [from, to) is gone (`log_capped`: the log's size cap dropped it); the stream goes on at `to`.
   * `disk_full` (from === to): the server's disk filled up, so output written from there on may be missing.
   */
  | { kind: "gap"; from: number; to: number; reason: "log_capped" | "disk_full" }
  | { kind: "stdout" | "stderr"; data: string; encoding?: "base64"; cursor?: number }
  | { kind: "exit"; code: number | null }
  | { kind: "closed"; reason: string };

/**
 * A frame of the exec NDJSON stream (ext).
 *
 * @example
 * for await (const f of nimbus.sandboxes.execStream({ id, argv: ["ls"] }))
 *   if (f.kind === "exit") console.log(f.code);
 */
export type ExecFrame =
  { kind: "stdout" | "stderr"; data: string; encoding: "base64" } | { kind: "exit"; code: number | null } | { kind: "error"; error: WireError };
