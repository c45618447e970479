/**
 * Listing output: an aligned table for people, `--json` for programs.
 */
import type { CliIo, OptionDef } from "./command.js";

export const JSON_OPTION: Record<string, OptionDef> = { json: { type: "boolean", help: "print JSON instead of a table" } };

export function printTable(io: CliIo, columns: string[], rows: Array<Array<string | number | null | undefined>>): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  io.out(fmt(columns.map((c) => c.toUpperCase())));
  for (const r of cells) io.out(fmt(r));
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
