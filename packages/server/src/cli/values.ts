/**
 * Parsing of CLI option values that several commands share: durations,
 * byte sizes, `k=v` pairs, positive numbers, the tenant to act in, and the
 * one-line error format of main.ts for commands that keep going after a
 * failure. Every bad value is a UsageError naming its flag (exit 2).
 */
import type { Nimbus } from "@nimbus/nimbus";
import { UsageError, type CliIo, type ParsedArgs } from "./command.js";
import { connect, tenantFrom } from "./connect.js";

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** The string value of an option, if it was given. */
export function stringValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** Every value of a repeatable option, in order. */
export function listValue(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

/** `500ms`, `10s`, `5m`, `1h` (a bare number is seconds) → milliseconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--${flag}: invalid duration "${value}"; use e.g. 500ms, 10s, 5m or 1h`);
  return Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2] ?? "s"]!);
}

/** A time as the server takes it (RFC 3339, UTC): any form Date.parse reads, e.g. `2026-12-04` or `2026-12-04T17:00:00+01:00`. */
export function parseTime(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--${flag}: invalid time "${value}"; use ISO 8601, e.g. 2026-12-04 or 2026-12-04T17:00:00Z`);
  return new Date(t).toISOString();
}

/** `268435456`, `512k`, `256m`, `1g` (binary units; `kb`/`mib` spellings accepted) → bytes. */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
  const bytes = m ? Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) throw new UsageError(`--${flag}: invalid size "${value}"; use bytes or a k/m/g suffix, e.g. 256m or 1g`);
  return bytes;
}

/** A positive number (`0.5`), or with `integer` a positive whole number. */
export function parsePositive(flag: string, value: string, integer = false): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag}: expected a positive ${integer ? "whole number" : "number"}, got "${value}"`);
  }
  return n;
}

/** `key=value` → `[key, value]`; the value may itself contain `=`. */
export function parsePair(flag: string, value: string): [string, string] {
  const i = value.indexOf("=");
  if (i <= 0) throw new UsageError(`--${flag}: expected key=value, got "${value}"`);
  return [value.slice(0, i), value.slice(i + 1)];
}

/** `--env K=V` as given, or a bare `K` taking this shell's value (as `docker run -e K` does). */
export function envOf(args: ParsedArgs, io: CliIo): string[] {
  return listValue(args, "env").map((e) => (e.includes("=") ? parsePair("env", e).join("=") : `${e}=${io.env[e] ?? ""}`));
}

/** How one optional flag fills one field of `T`: the field, and how the flag's value is read. */
export type FieldFlag<T> = { [K in keyof T]-?: [field: K, parse: (flag: string, value: string) => NonNullable<T[K]>] }[keyof T];

/**
 * The fields of `T` whose flags were given, each read by its parser, in the
 * table's order; undefined when none of the flags was given.
 */
export function fieldsFromFlags<T extends object>(args: ParsedArgs, flags: Record<string, FieldFlag<T>>): Partial<T> | undefined {
  const fields: Partial<Record<keyof T, unknown>> = {};
  for (const [flag, [field, parse]] of Object.entries(flags)) {
    const value = stringValue(args, flag);
    if (value !== undefined) fields[field] = parse(flag, value);
  }
  return Object.keys(fields).length ? (fields as Partial<T>) : undefined;
}

/** Checks a value against a fixed set of choices. */
export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${flag}: expected one of ${choices.join(", ")}, got "${value}"`);
  return value as T;
}

/** The tenant from `--tenant`/`-T`, else NIMBUS_TENANT or NIMBUS_TENANT_ID; none is a usage error. */
export function requireTenant(args: ParsedArgs, io: CliIo): string {
  const tenant = tenantFrom(io, args.values.tenant);
  if (!tenant) throw new UsageError("no tenant given: pass --tenant ID (-T ID) or set NIMBUS_TENANT (NIMBUS_TENANT_ID works too)");
  return tenant;
}

/** An SDK client bound to the tenant the command acts in (see {@link requireTenant}). */
export function connectTenant(args: ParsedArgs, io: CliIo): { tenantId: string; client: Nimbus } {
  const tenantId = requireTenant(args, io);
  return { tenantId, client: connect(io, { endpoint: args.values.endpoint, tenant: tenantId }).client };
}

/** The one-line form main.ts prints for an SDK error, for commands that report and continue. */
export function describeError(command: string, err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; requestId?: unknown };
  if (typeof e?.code !== "string") throw err;
  const rid = typeof e.requestId === "string" && e.requestId ? `, request ${e.requestId}` : "";
  return `nimbus ${command}: ${String(e.message)} (${e.code}${rid})`;
}
