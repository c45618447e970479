/**
 * The boot reconciler: makes the records and the host agree after the server
 * was away (a clean stop, a crash, a kill -9). For each active record it
 * re-adopts a live container, records the real exit of one that ended while
 * we were gone, relaunches a sandbox whose container was never made (still
 * pulling, or recorded `starting` just before the server went away), and marks
 * the rest `failed` with reason `lost`. Containers no record owns are removed,
 * but only those stamped with this data dir's instance id: the server refuses
 * to start on a missing, empty or corrupt database while sandboxes exist, and
 * a container without our id (made by hand, or by another data dir, or before
 * instance ids existed) is left alone and named in the log.
 */
import type { Logger } from "../log.js";
import type { SandboxRow, SandboxStore } from "../store/sandbox-store.js";
import type { ExitInfo, RuntimeBackend } from "../runtime/backend.js";
import { ACTIVE_STATES, TERMINAL_STATES, type SandboxReason, type SandboxState } from "./sandbox-state.js";

/** The annotation that carries a data dir's instance id on each of its containers. */
export const INSTANCE_ANNOTATION = "io.nimbus.instance";

/**
 * What the reconciler may do to sandboxes: the steps of their state table,
 * handed over by `Sandboxes.reconcile()`, so no other code reaches them.
 */
export interface ReconcileSteps {
  transition(row: SandboxRow, to: SandboxState, patch?: { reason?: SandboxReason | null; message?: string | null }): SandboxRow;
  startLaunch(row: SandboxRow): void;
  watchExit(tenantId: string, id: string): void;
  recordExit(tenantId: string, id: string, exit: ExitInfo): Promise<void>;
  release(tenantId: string, id: string): Promise<void>;
  stop(tenantId: string, id: string): Promise<unknown>;
  /** Adopted sandboxes with egress rules get their data path and rules back. */
  resumeEgress(rows: SandboxRow[]): Promise<void>;
}

export interface ReconcileReport {
  adopted: string[];
  exited: string[];
  relaunched: string[];
  lost: string[];
  orphansRemoved: string[];
  /** Containers no record owns that lack this data dir's instance id: kept. */
  foreignKept: string[];
}

export async function reconcileSandboxes(
  store: SandboxStore,
  runtime: RuntimeBackend,
  sandboxes: ReconcileSteps,
  log: Logger,
  instanceId?: string,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { adopted: [], exited: [], relaunched: [], lost: [], orphansRemoved: [], foreignKept: [] };
  const containers = new Map((await runtime.list()).map((c) => [c.id, c]));
  const owned = new Map(store.allKeys().map((k) => [k.id, k.tenantId]));
  const adoptedRows: SandboxRow[] = [];

  for (const row of store.allInStates(ACTIVE_STATES)) {
    const c = containers.get(row.id);
    const state = row.lifecycleState;
    if (!c) {
      if (state === "pending" || state === "starting") {
        sandboxes.startLaunch(row);
        report.relaunched.push(row.id);
      } else if (state === "stopping") {
        sandboxes.transition(row, "stopped", { reason: row.reason === "expired" ? "expired" : "stopped", message: "stopped while the server was down" });
      } else {
        sandboxes.transition(row, "failed", { reason: "lost", message: "the container disappeared while the server was not running" });
        report.lost.push(row.id);
      }
      continue;
    }
    if (c.status === "running") {
      if (state === "starting") sandboxes.transition(row, "ready", { message: null });
      else if (state === "pending") {
        sandboxes.transition(sandboxes.transition(row, "starting"), "ready", { message: null });
      }
      sandboxes.watchExit(row.tenantId, row.id);
      if (state !== "stopping") adoptedRows.push(row);
      if (state === "stopping") void sandboxes.stop(row.tenantId, row.id).catch((err) => log.warn("resuming a stop failed", { sandboxId: row.id, err }));
      report.adopted.push(row.id);
    } else if (c.status === "stopped") {
      const exit = c.exit ?? (await runtime.wait(row.id));
      if (state === "pending") sandboxes.transition(row, "starting");
      await sandboxes.recordExit(row.tenantId, row.id, exit);
      report.exited.push(row.id);
    } else {
      // Created but never started: the start was interrupted.
      await sandboxes.release(row.tenantId, row.id);
      sandboxes.transition(row, "failed", { reason: "lost", message: "the server stopped while the sandbox was starting; create it again" });
      report.lost.push(row.id);
    }
  }

  try {
    await sandboxes.resumeEgress(adoptedRows);
  } catch (err) {
    // Deny, never open: without the data path their connections are refused.
    log.warn("the egress network could not be resumed; sandboxes with egress rules are cut off until recreated", { err });
  }

  for (const c of containers.values()) {
    const tenantId = owned.get(c.id);
    const row = tenantId === undefined ? undefined : store.get(tenantId, c.id);
    if (row && !TERMINAL_STATES.includes(row.lifecycleState)) continue;
    if (row) await sandboxes.release(row.tenantId, row.id);
    else if (instanceId !== undefined && c.annotations[INSTANCE_ANNOTATION] === instanceId) await runtime.delete(c.id);
    else {
      report.foreignKept.push(c.id);
      continue;
    }
    report.orphansRemoved.push(c.id);
  }
  if (report.foreignKept.length > 0) {
    log.warn("kept containers that no record owns and that lack this data dir's instance id; delete them by hand if they are not needed", {
      containers: report.foreignKept,
    });
  }
  const counts = Object.fromEntries(Object.entries(report).map(([k, v]) => [k, v.length]));
  if (Object.values(counts).some((n) => n > 0)) log.info("reconciled sandboxes with the host", counts);
  return report;
}
