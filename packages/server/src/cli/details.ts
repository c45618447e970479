/**
 * Human detail views of one resource (`sandbox get`, `session get`):
 * aligned `key: value` rows, skipping absent values, then status conditions.
 */
import type { Condition } from "@nimbus/nimbus";
import type { CliIo } from "./command.js";

export type DetailRow = [label: string, value: string | number | undefined];

export function printDetails(io: CliIo, rows: DetailRow[], conditions: Condition[] = []): void {
  for (const [k, v] of rows) if (v !== undefined) io.out(`${`${k}:`.padEnd(14)}${v}`);
  if (conditions.length) io.out("conditions:");
  for (const c of conditions) io.out(`  ${c.type}=${c.status}  ${c.reason}${c.message ? `: ${c.message}` : ""} (since ${c.lastTransitionTime})`);
}
