/**
 * The string formats the schemas use, taught to TypeBox: it rejects a value
 * of a format it was not told about, so a schema with `format: "date-time"`
 * refused every value until this was registered (the egress log's `since`).
 */
import { FormatRegistry } from "@sinclair/typebox";

/** RFC 3339 (the `date-time` of JSON Schema): a full date, a time and an offset; and a real instant. */
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

export function isDateTime(v: string): boolean {
  return RFC3339.test(v) && !Number.isNaN(Date.parse(v));
}

if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", isDateTime);
