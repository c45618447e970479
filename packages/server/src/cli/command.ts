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
  /**
   * Docker style: after this many positionals, every later argument (flags too)
   * is the command to run in the sandbox and lands in `rest`, as after `--`.
   */
  commandAfter?: number;
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

/**
 * Where the sandbox command starts: at `--`, or with `def.commandAfter`, right
 * after that many positionals. Our own flags may still follow them when a `--`
 * comes later (`exec ID -e X=1 -- sh`), as before the Docker-style form.
 */
function splitAt(def: CommandDef, argv: string[]): number {
  const dd = argv.indexOf("--");
  if (def.commandAfter === undefined) return dd;
  const all = { ...COMMON_OPTIONS, ...def.options };
  const optionOf = (flag: string): OptionDef | undefined => {
    const name = flag.split("=")[0]!;
    if (name.startsWith("--")) return all[name.slice(2)];
    const shorts = name.slice(1).split("");
    const defs = shorts.map((c) => Object.values(all).find((d) => d.short === c));
    return defs.every(Boolean) ? defs[defs.length - 1] : undefined;
  };
  let seen = 0;
  let commandAt = -1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return i;
    const o = a.startsWith("-") && a !== "-" ? optionOf(a) : undefined;
    if (seen === def.commandAfter && !o) return commandAt;
    if (o) {
      if (o.type === "string" && !a.includes("=")) i++;
      continue;
    }
    if (a.startsWith("-") && a !== "-") continue;
    if (++seen === def.commandAfter) commandAt = i + 1 < argv.length ? i + 1 : -1;
  }
  return commandAt === -1 ? dd : commandAt;
}

/** A usage error for an unknown flag, with the hint that flags for the sandbox's command go after `--`. */
function unknownFlagError(def: CommandDef, message: string, own: string[]): UsageError {
  const flag = /Unknown option '([^']+)'/.exec(message)?.[1];
  if (!flag) return new UsageError(message);
  // `-t` was the tenant flag; main.ts explains that one.
  if (flag === "-t" || !/[\s[]--\s/.test(def.usage)) return new UsageError(`unknown option '${flag}'`);
  const at = own.indexOf(flag);
  const cmd = own.slice(Math.max(0, at - 1)).join(" ");
  return new UsageError(
    `unknown option '${flag}'. If it is meant for the command in the sandbox, put the command after \`--\`: nimbus ${def.path.join(" ")} … -- ${cmd}`,
  );
}

export function parseCommandArgs(def: CommandDef, argv: string[]): ParsedArgs {
  const dd = splitAt(def, argv);
  const own = dd === -1 ? argv : argv.slice(0, dd);
  const rest = dd === -1 ? [] : argv.slice(argv[dd] === "--" ? dd + 1 : dd);
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
    throw unknownFlagError(def, (err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""), own);
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
