/**
 * Schema validation at the edge. Compiled TypeBox checkers are cached per
 * schema; the first error becomes an op.invalid_input naming the field, so a
 * caller learns exactly what to fix. Query strings are coerced (numbers,
 * booleans) before checking because everything in a URL is text.
 */
import type { TSchema, Static } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import { invalidInput } from "../domain/errors.js";
import "./formats.js";

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

function fieldName(where: string, path: string): string {
  const dotted = path
    .replace(/^\//, "")
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
  return dotted ? dotted : where;
}

export function validate<S extends TSchema>(schema: S, value: unknown, where: "body" | "query" | "path"): Static<S> {
  const input = where === "body" ? value : Value.Convert(schema, value);
  const check = checker(schema);
  if (check.Check(input)) return input as Static<S>;
  const first = check.Errors(input).First();
  if (!first) throw invalidInput(`invalid ${where}`);
  const field = fieldName(where, first.path);
  const message =
    first.type === ValueErrorType.ObjectAdditionalProperties || first.message === "Unexpected property"
      ? `unknown field \`${field}\` in ${where}`
      : first.type === ValueErrorType.ObjectRequiredProperty
        ? `missing required field \`${field}\` in ${where}`
        : `invalid ${where} field \`${field}\`: ${first.message.toLowerCase()}`;
  throw invalidInput(message, { field, location: where, reason: first.message });
}
