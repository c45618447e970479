/**
 * Test support: wire resources shaped as the contract says, for fake
 * server answers.
 */
import type { LifecycleState, Sandbox } from "../types/sandbox.js";
import type { Session } from "../types/session.js";

const NOW = "2026-11-28T10:00:00.000Z";

/**
 * A sandbox resource in the given state.
 *
 * @example
 * sendJson(res, 200, sandbox("box-1", "ready"));
 */
export function sandbox(id: string, lifecycleState: LifecycleState, status: Partial<Sandbox["status"]> = {}): Sandbox {
  return {
    metadata: { tenantId: "demo", id, generation: 1, resourceVersion: "1", createdAt: NOW, updatedAt: NOW, labels: {} },
    spec: {
      profile: "worker",
      sandbox: {
        tenantId: "demo",
        owner: { kind: "standalone", displayName: "agent-task" },
        backend: "container",
        root: { kind: "oci_image", source: { kind: "reference", reference: "docker.io/library/node:22-alpine" } },
        process: {
          argv: { redacted: true, valueCount: 3 },
          environment: { redacted: true, valueCount: 0 },
          cwd: "/",
          terminal: false,
        },
      },
    },
    status: {
      lifecycleState,
      readiness: lifecycleState === "ready" ? "ready" : "not_ready",
      health: "unknown",
      backend: "container",
      endpoints: [],
      conditions: [],
      ...status,
    },
  };
}

/**
 * An open session on a sandbox.
 *
 * @example
 * sendJson(res, 201, session("ses-1", "box-1"));
 */
export function session(id: string, sandboxId: string, lifecycleState: Session["status"]["lifecycleState"] = "open"): Session {
  const expiresAt = "2026-11-28T10:05:00.000Z";
  return {
    metadata: { tenantId: "demo", id, generation: 1, resourceVersion: "1", createdAt: NOW, updatedAt: NOW },
    spec: {
      target: { sandbox: { id: sandboxId } },
      targetSnapshot: { sandbox: { id: sandboxId, generation: 1, profile: "worker", backend: "container" } },
      channels: ["stdio"],
      expiresAt,
    },
    status: { lifecycleState, expiresAt, conditions: [] },
  };
}
