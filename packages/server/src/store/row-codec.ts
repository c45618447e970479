/**
 * How a store's record maps to its table's row: each field's column and how
 * its value is kept there (as is, as JSON text, or as a 0/1 flag). One
 * declaration gives both directions, so a table's reads and writes cannot
 * drift apart, and each store states only what is particular to its table.
 */

/** How a value is kept in its column. */
export type ColumnKind = "value" | "json" | "flag";

/** A field's column: its name, or its name and how the value is kept. */
export type ColumnOf = string | { readonly column: string; readonly kind: ColumnKind };

/** Every field of `Row` and the column it is stored in. */
export type ColumnMap<Row> = { readonly [K in keyof Row]-?: ColumnOf };

/** A column kept as JSON text (objects, arrays). */
export const json = (column: string): ColumnOf => ({ column, kind: "json" });
/** A boolean kept as 0/1. */
export const flag = (column: string): ColumnOf => ({ column, kind: "flag" });

export interface RowCodec<Row> {
  /** The record from a `SELECT *` row. */
  fromRaw(raw: unknown): Row;
  /** The records from `SELECT *` rows, in their order. */
  fromRows(raws: unknown[]): Row[];
  /** Column → stored value, for the fields `fields` holds (an insert's row or an update's patch). */
  columns(fields: Partial<Row>): Record<string, unknown>;
}

export function rowCodec<Row extends object>(map: ColumnMap<Row>): RowCodec<Row> {
  const entries = (Object.keys(map) as Array<keyof Row>).map((field) => {
    const c = map[field];
    return typeof c === "string" ? { field, column: c, kind: "value" as ColumnKind } : { field, column: c.column, kind: c.kind };
  });
  const fromRaw = (raw: unknown): Row => {
    const r = raw as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const e of entries) out[e.field as string] = decode(e.kind, r[e.column]);
    return out as Row;
  };
  return {
    fromRaw,
    fromRows: (raws) => raws.map(fromRaw),
    columns(fields) {
      const out: Record<string, unknown> = {};
      for (const e of entries) if (Object.hasOwn(fields, e.field)) out[e.column] = encode(e.kind, fields[e.field]);
      return out;
    },
  };
}

function decode(kind: ColumnKind, stored: unknown): unknown {
  if (kind === "json") return JSON.parse(stored as string);
  if (kind === "flag") return stored === 1;
  return stored;
}

function encode(kind: ColumnKind, value: unknown): unknown {
  if (kind === "json") return JSON.stringify(value);
  if (kind === "flag") return value ? 1 : 0;
  return value;
}
