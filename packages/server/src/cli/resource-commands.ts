/**
 * Builders for the command shapes many resources share, so each command only
 * says what is particular to it: a listing (`… ls [--json]`: a table or JSON)
 * and a command that reads or changes one resource and prints it (`… get ID
 * [--json]`, `tenant limits set …`: a human view or JSON).
 */
import type { Nimbus } from "@nimbus/nimbus";
import type { CliIo, CommandDef, ParsedArgs } from "./command.js";
import { CONNECTION_OPTIONS, TENANT_CONNECTION_OPTIONS, connect } from "./connect.js";
import { JSON_OPTION, printJson, printTable, type Cell } from "./output.js";
import { connectTenant } from "./values.js";

/** What a command says about itself: everything of a CommandDef but its `run`. */
export type CommandHead = Omit<CommandDef, "run">;

/** Every item of a paged listing, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** With --json the value as JSON, else as `show` lays it out for people. */
function printJsonOr<T>(io: CliIo, args: ParsedArgs, value: T, show: (io: CliIo, value: T) => void): void {
  if (args.values.json) printJson(io, value);
  else show(io, value);
}

/** A listing: the items as a table (one row each), or with --json as JSON; JSON_OPTION is added to `head.options`. */
export function listCommand<T>(
  head: CommandHead,
  list: (args: ParsedArgs, io: CliIo) => Promise<T[]>,
  table: { columns: string[]; row: (item: T) => Cell[] },
): CommandDef {
  return {
    ...head,
    options: { ...head.options, ...JSON_OPTION },
    async run(args, io) {
      printJsonOr(io, args, await list(args, io), (out, items) => printTable(out, table.columns, items.map(table.row)));
      return 0;
    },
  };
}

/** A command that reads or changes one resource and prints the answer: with --json as JSON, else as `show` lays it out. */
function showCommand<T>(head: CommandHead, fetch: (args: ParsedArgs, io: CliIo) => Promise<T>, show: Show<T>): CommandDef {
  return {
    ...head,
    async run(args, io) {
      printJsonOr(io, args, await fetch(args, io), show);
      return 0;
    },
  };
}

/** Reads the one resource an argument names. */
type GetOne<T> = (client: Nimbus, ref: string) => Promise<T>;
/** Lays a value out for people. */
type Show<T> = (io: CliIo, value: T) => void;

/** `nimbus PATH… ARG [--json]`: `get` reads the one resource ARG names, through the client `clientOf` gives. */
function getOneCommand<T>(
  head: Omit<CommandHead, "positionals">,
  clientOf: (args: ParsedArgs, io: CliIo) => Nimbus,
  get: GetOne<T>,
  show: Show<T>,
): CommandDef {
  return showCommand({ ...head, positionals: { min: 1, max: 1 } }, (args, io) => get(clientOf(args, io), args.positionals[0]!), show);
}

/** `nimbus NOUN get ARG [--json]` in the tenant of --tenant / NIMBUS_TENANT. */
export function tenantGetCommand<T>(noun: string, arg: string, summary: string, get: GetOne<T>, show: Show<T>): CommandDef {
  const options = { ...TENANT_CONNECTION_OPTIONS, ...JSON_OPTION };
  return getOneCommand(
    { path: [noun, "get"], summary, usage: `nimbus ${noun} get ${arg} [--json]`, options },
    (args, io) => connectTenant(args, io).client,
    get,
    show,
  );
}

/** `nimbus tenant SETTING get TENANT [--json]` (admin): `get` reads that tenant's setting. */
export function tenantSettingGetCommand<T>(setting: string, summary: string, get: GetOne<T>, show: Show<T>): CommandDef {
  const head = {
    path: ["tenant", setting, "get"],
    summary,
    usage: `nimbus tenant ${setting} get TENANT [--json]`,
    options: { ...CONNECTION_OPTIONS, ...JSON_OPTION },
  };
  return getOneCommand(head, (args, io) => connect(io, args.values).client, get, show);
}

/** A command that acts on what its arguments name and prints one line saying what it did (`… rm ID`, `… stop ID`). */
export function actCommand(head: CommandHead, act: (args: ParsedArgs, io: CliIo) => Promise<string>): CommandDef {
  return {
    ...head,
    async run(args, io) {
      io.out(await act(args, io));
      return 0;
    },
  };
}

/**
 * `nimbus tenant SETTING set TENANT [flags] [--json]` (admin): `read` turns the
 * flags into the new value (usage errors come before any connection), `write`
 * stores it for the tenant, and the answer is printed with `show` or as JSON.
 * `head.options` are the command's own flags; the connection and --json
 * options, the path and the TENANT argument are added here.
 */
export function tenantSettingSetCommand<V, T>(
  setting: string,
  head: Pick<CommandHead, "summary" | "usage" | "description" | "options">,
  read: (args: ParsedArgs) => V,
  write: (client: Nimbus, tenantId: string, value: V) => Promise<T>,
  show: (io: CliIo, value: T, tenantId: string) => void,
): CommandDef {
  return {
    ...head,
    path: ["tenant", setting, "set"],
    options: { ...CONNECTION_OPTIONS, ...JSON_OPTION, ...head.options },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const value = read(args);
      const tenantId = args.positionals[0]!;
      printJsonOr(io, args, await write(connect(io, args.values).client, tenantId, value), (out, answer) => show(out, answer, tenantId));
      return 0;
    },
  };
}

/** `nimbus PATH… ARG`: `act` makes one SDK call on what ARG names (client of --endpoint, and --tenant when given) and returns the line to print. */
export function oneArgCommand(head: Omit<CommandHead, "positionals">, act: (client: Nimbus, arg: string) => Promise<string>): CommandDef {
  return actCommand({ ...head, positionals: { min: 1, max: 1 } }, (args, io) => act(connect(io, args.values).client, args.positionals[0]!));
}
