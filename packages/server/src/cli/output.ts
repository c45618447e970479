/**
 * Listing output: an aligned table for people, `--json` for programs.
 */
import type { CliIo, OptionDef } from "./command.js";

/** One table cell; null and undefined print as `-`. */
export type Cell = string | number | null | undefined;

export const JSON_OPTION: Record<string, OptionDef> = { json: { type: "boolean", help: "print JSON instead of a table" } };

export function printTable(io: CliIo, columns: string[], rows: Cell[][]): void {
  tableWriter(io, columns).write(rows);
}

/**
 * A table printed as rows arrive (a followed log): the header first, then
 * each batch padded to the widest cell seen so far (columns only grow).
 */
export function tableWriter(io: CliIo, columns: string[]): { write(rows: Cell[][]): void } {
  const widths = columns.map((c) => c.length);
  let headed = false;
  return {
    write(rows) {
      const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
      for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i]!, c.length)));
      const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
      if (!headed) io.out(fmt(columns.map((c) => c.toUpperCase())));
      headed = true;
      for (const r of cells) io.out(fmt(r));
    },
  };
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
