/**
 * Whether a spec's `resources.diskLimitBytes` can be honoured (issue 15
 * finding 12). The runtime gives a sandbox that asks for a limit a writable
 * layer of that size; a host that cannot (no loop devices, no mkfs.ext4)
 * refuses the field rather than record a limit nothing enforces. Specs without
 * the field are unaffected: their layer is bounded only by the data dir's disk
 * and the --disk-free-min-bytes floor.
 */
import { MIN_DISK_LIMIT_BYTES, type RuntimeBackend } from "../runtime/backend.js";
import { invalidInput } from "./errors.js";

const FIELD = "spec.resources.diskLimitBytes";

export function checkDiskLimit(limitBytes: number | undefined, support: RuntimeBackend["diskLimits"]): void {
  if (limitBytes === undefined) return;
  if (!support.enforced) {
    throw invalidInput(`${FIELD} cannot be enforced on this server (${support.reason}): leave it out, or ask the operator to enable disk limits`, {
      field: FIELD,
    });
  }
  if (limitBytes < MIN_DISK_LIMIT_BYTES) {
    throw invalidInput(`${FIELD} must be at least ${MIN_DISK_LIMIT_BYTES} (16 MiB): a smaller filesystem is mostly its own metadata`, {
      field: FIELD,
      minimum: MIN_DISK_LIMIT_BYTES,
    });
  }
}
