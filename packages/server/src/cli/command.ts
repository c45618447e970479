/**
 * What a CLI command is: a name path (`tenant key create`), its help text and
 * option table (which also feed `docs/cli.md`), and a `run` that returns the
 * process exit code. Everything but `start` talks to the server via the SDK.
 */
import { parseArgs } from "node:util";

export interface OptionDef {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  help: string;
  /** Shown as `(default: …)`; also names the env var fallback where one exists. */
  default?: string;
  env?: string;
}

export interface CommandDef {
  path: string[];
  summary: string;
  usage: string;
  description?: string;
  options: Record<string, OptionDef>;
  /** Allow positional arguments (their meaning is in `usage`). */
  positionals?: { min: number; max: number };
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Arguments after a literal `--`, passed through untouched. */
  rest: string[];
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  isTty: boolean;
}

export class UsageError extends Error {}

export const COMMON_OPTIONS: Record<string, OptionDef> = {
  help: { type: "boolean", short: "h", help: "show this help" },
};

export function parseCommandArgs(def: CommandDef, argv: string[]): ParsedArgs {
  const dd = argv.indexOf("--");
  const own = dd === -1 ? argv : argv.slice(0, dd);
  const rest = dd === -1 ? [] : argv.slice(dd + 1);
  const options = Object.fromEntries(
    Object.entries({ ...COMMON_OPTIONS, ...def.options }).map(([k, o]) => [
      k,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""));
  }
  const limits = def.positionals ?? { min: 0, max: 0 };
  if (!parsed.values.help && (parsed.positionals.length < limits.min || parsed.positionals.length > limits.max)) {
    throw new UsageError(`expected ${limits.min === limits.max ? limits.min : `${limits.min}-${limits.max}`} argument(s), got ${parsed.positionals.length}`);
  }
  return { values: parsed.values as ParsedArgs["values"], positionals: parsed.positionals, rest };
}

export function formatHelp(def: CommandDef): string {
  const lines = [`Usage: ${def.usage}`, "", def.summary];
  if (def.description) lines.push("", def.description);
  const opts = Object.entries({ ...def.options, ...COMMON_OPTIONS });
  if (opts.length) {
    lines.push("", "Options:");
    for (const [name, o] of opts) {
      const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? " <value>" : ""}`;
      const extra = [o.default !== undefined ? `default: ${o.default}` : "", o.env ? `env: ${o.env}` : ""].filter(Boolean).join("; ");
      lines.push(`  ${flag.padEnd(30)} ${o.help}${extra ? ` (${extra})` : ""}`);
    }
  }
  return lines.join("\n");
}
