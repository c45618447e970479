/**
 * The `status` of a service definition (upstream's shape): where the
 * definition came from and conditions stamped with the generation they
 * describe, so a client can tell whether its latest write was seen.
 */
import type { Condition } from "@nimbus/nimbus";
import type { ServiceRow } from "../store/service-store.js";
import type { ServiceState } from "./service-state.js";

/** Every definition here is created through the API; upstream calls that `dynamic` (as opposed to config-file ones). */
export const DEFINITION_SOURCE = "dynamic";

const READY_REASON: Record<ServiceState, string> = {
  declared: "Declared",
  stopped: "Stopped",
  starting: "Starting",
  running: "Running",
  restarting: "Restarting",
  stopping: "Stopping",
  failed: "Failed",
};

export function definitionConditions(row: ServiceRow): Condition[] {
  const state = row.state;
  return [
    {
      type: "Accepted",
      status: "True",
      reason: "Valid",
      message: `generation ${row.generation} of the definition was accepted`,
      observedGeneration: row.generation,
      lastTransitionTime: row.updatedAt,
    },
    {
      type: "Ready",
      status: state === "running" ? "True" : "False",
      reason: READY_REASON[state] ?? "Unknown",
      message: row.message ?? `the service is ${state}`,
      observedGeneration: row.generation,
      lastTransitionTime: row.stateChangedAt,
    },
  ];
}
