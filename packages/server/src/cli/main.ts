/**
 * The `nimbus` entry point: find the command by the longest matching word
 * path, parse its options, run it, and turn failures into one clear line and
 * an exit code (2 usage, 1 everything else).
 */
import { COMMANDS } from "./commands/index.js";
import { formatHelp, parseCommandArgs, UsageError, type CliIo, type CommandDef } from "./command.js";
import { VERSION } from "../version.js";

function findCommand(argv: string[]): { def?: CommandDef; consumed: number; prefix: string[] } {
  let best: { def?: CommandDef; consumed: number } = { consumed: 0 };
  for (const def of COMMANDS) {
    if (def.path.length > best.consumed && def.path.every((w, i) => argv[i] === w)) best = { def, consumed: def.path.length };
  }
  const prefix: string[] = [];
  if (!best.def)
    for (const w of argv) {
      if (w.startsWith("-") || !COMMANDS.some((c) => [...prefix, w].every((p, i) => c.path[i] === p))) break;
      prefix.push(w);
    }
  return { ...best, prefix };
}

function topHelp(prefix: string[]): string {
  const cmds = COMMANDS.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...cmds.map((c) => c.path.join(" ").length));
  return [
    prefix.length ? `Usage: nimbus ${prefix.join(" ")} <command> [options]` : "Usage: nimbus <command> [options]",
    "",
    prefix.length ? "Commands:" : "Nimbus: a self-hosted server that gives every AI agent its own isolated sandbox.\n\nCommands:",
    ...cmds.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    "",
    "Run `nimbus <command> --help` for a command's options. `nimbus --version` prints the version.",
  ].join("\n");
}

/** `-t` meant `--tenant` before it became `--tty`; a usage error where `-t` was given says so. */
function tenantFlagHint(def: CommandDef, argv: string[]): string {
  const dd = argv.indexOf("--");
  const own = dd === -1 ? argv : argv.slice(0, dd);
  if (!def.options.tenant || !own.some((a) => /^-[a-zA-Z]*t[a-zA-Z]*$/.test(a))) return "";
  return "\nnote: `-t` now means `--tty` (as in Docker); the tenant flag is `--tenant ID` or `-T ID` (or set NIMBUS_TENANT)";
}

interface ErrorLike {
  message: string;
  code?: unknown;
  requestId?: unknown;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.out(topHelp([]));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === "--version" || argv[0] === "-v" || argv[0] === "version") {
    io.out(VERSION);
    return 0;
  }
  const { def, consumed, prefix } = findCommand(argv);
  if (!def) {
    if (prefix.length) {
      io.out(topHelp(prefix));
      return argv.includes("--help") || argv.includes("-h") ? 0 : 2;
    }
    io.err(`nimbus: unknown command \`${argv[0]}\`; run \`nimbus --help\` for the list`);
    return 2;
  }
  const own = argv.slice(consumed);
  try {
    const args = parseCommandArgs(def, own);
    if (args.values.help) {
      io.out(formatHelp(def));
      return 0;
    }
    return await def.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`nimbus ${def.path.join(" ")}: ${err.message}${tenantFlagHint(def, own)}\n\n${formatHelp(def)}`);
      return 2;
    }
    const e = err as ErrorLike;
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code === undefined) throw err;
    const rid = typeof e.requestId === "string" && e.requestId ? `, request ${e.requestId}` : "";
    io.err(`nimbus ${def.path.join(" ")}: ${e.message} (${code}${rid})`);
    return 1;
  }
}
