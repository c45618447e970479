/**
 * How a store's record maps to its table's row. A record holds exactly its
 * table's columns, each under the column's name in camelCase
 * (`state_changed_at` ↔ `stateChangedAt`) unless renamed; objects and arrays
 * are kept as JSON text, booleans as 0/1. One declaration gives both
 * directions, so a table's reads and writes cannot drift apart, and each store
 * states only what is particular to its table.
 */

export interface CodecSpec<Row> {
  /** Fields whose column is not their snake_case name (e.g. `id` → `sandbox_id`). */
  readonly rename?: { readonly [K in keyof Row]?: string };
  /** Fields kept as JSON text. */
  readonly json?: ReadonlyArray<keyof Row>;
  /** Boolean fields kept as 0/1. */
  readonly flag?: ReadonlyArray<keyof Row>;
}

export interface RowCodec<Row> {
  /** The record from a `SELECT *` row (a select must name no columns beyond the table's). */
  fromRaw(raw: unknown): Row;
  /** The records from `SELECT *` rows, in their order. */
  fromRows(raws: unknown[]): Row[];
  /** Column → stored value, for the fields `fields` holds (an insert's row or an update's patch). */
  columns(fields: Partial<Row>): Record<string, unknown>;
}

const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camelCase = (column: string): string => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function rowCodec<Row extends object>(spec: CodecSpec<Row>): RowCodec<Row> {
  const renamed = Object.entries(spec.rename ?? {}) as Array<[string, string]>;
  const columnOf = new Map(renamed);
  const fieldOf = new Map(renamed.map(([field, column]) => [column, field]));
  const json = new Set<string>((spec.json ?? []).map(String));
  const flag = new Set<string>((spec.flag ?? []).map(String));
  const fromRaw = (raw: unknown): Row => {
    const out: Record<string, unknown> = {};
    for (const [column, stored] of Object.entries(raw as Record<string, unknown>)) {
      const field = fieldOf.get(column) ?? camelCase(column);
      out[field] = json.has(field) ? JSON.parse(stored as string) : flag.has(field) ? stored === 1 : stored;
    }
    return out as Row;
  };
  return {
    fromRaw,
    fromRows: (raws) => raws.map(fromRaw),
    columns(fields) {
      const out: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(fields)) {
        out[columnOf.get(field) ?? snakeCase(field)] = json.has(field) ? JSON.stringify(value) : flag.has(field) ? (value ? 1 : 0) : value;
      }
      return out;
    },
  };
}
