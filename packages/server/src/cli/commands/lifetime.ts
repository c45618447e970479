/**
 * Sandbox lifetimes on the command line (docs/lifetimes.md): `nimbus sandbox
 * extend`, `nimbus tenant lifetime get|set`, and the create flags that build
 * `spec.lifetime` (`--ttl`, `--idle-timeout`, `--on-expire`), all through the SDK.
 */
import type { LifetimeSpec, TenantLifetimeView } from "@nimbus/nimbus";
import { UsageError, type CliIo, type CommandDef, type OptionDef, type ParsedArgs } from "../command.js";
import { TENANT_CONNECTION_OPTIONS } from "../connect.js";
import { JSON_OPTION, printJson, printTable } from "../output.js";
import { tenantSettingGetCommand, tenantSettingSetCommand } from "../resource-commands.js";
import { connectTenant, fieldsFromFlags, parseChoice, parseDuration, stringValue, type FieldFlag } from "../values.js";

/** The flags that make a lifetime, shared by `sandbox create` and `tenant lifetime set`. */
export const LIFETIME_OPTIONS: Record<string, OptionDef> = {
  ttl: { type: "string", help: "stop the sandbox this long after create, e.g. 30m or 2h (whole seconds)", default: "the tenant's default, else none" },
  "idle-timeout": {
    type: "string",
    help: "stop it after this long with no session, stdio/exec IO or proxy traffic, e.g. 10m",
    default: "the tenant's default, else none",
  },
  "on-expire": { type: "string", help: "what expiry does: stop | delete", default: "stop" },
};

function seconds(flag: string, value: string): number {
  const ms = parseDuration(flag, value);
  if (ms < 1000 || ms % 1000 !== 0) throw new UsageError(`--${flag}: give whole seconds of at least 1s, e.g. 90s, 10m or 2h`);
  return ms / 1000;
}

/** The flags of LIFETIME_OPTIONS → the fields of a lifetime. */
const LIFETIME_FLAGS: Record<string, FieldFlag<LifetimeSpec>> = {
  ttl: ["ttlSeconds", seconds],
  "idle-timeout": ["idleTimeoutSeconds", seconds],
  "on-expire": ["onExpire", (flag, v) => parseChoice(flag, v, ["stop", "delete"] as const)],
};

/** The lifetime the flags ask for; undefined when none was given. */
export function lifetimeOf(args: ParsedArgs): LifetimeSpec | undefined {
  return fieldsFromFlags(args, LIFETIME_FLAGS);
}

function printLifetime(io: CliIo, view: TenantLifetimeView): void {
  const l = view.lifetime;
  printTable(
    io,
    ["setting", "value"],
    [
      ["ttl", l.ttlSeconds === undefined ? "none" : `${l.ttlSeconds}s`],
      ["idle-timeout", l.idleTimeoutSeconds === undefined ? "none" : `${l.idleTimeoutSeconds}s`],
      ["on-expire", l.onExpire ?? "stop"],
    ],
  );
}

export const lifetimeCommands: CommandDef[] = [
  {
    path: ["sandbox", "extend"],
    summary: "Move a running sandbox's TTL deadline (at most 7 days ahead)",
    usage: "nimbus sandbox extend ID (--by DURATION | --until TIME) [--json]",
    description: "--by adds to the current deadline (or to now, when the sandbox has none); --until sets an ISO 8601 time. Prints the new deadline.",
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      by: { type: "string", help: "time to add, e.g. 30m or 2h" },
      until: { type: "string", help: "the new deadline, ISO 8601, e.g. 2030-01-01T12:00:00Z" },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const by = stringValue(args, "by");
      const until = stringValue(args, "until");
      if ((by === undefined) === (until === undefined)) throw new UsageError("give one of --by DURATION or --until TIME");
      const id = args.positionals[0]!;
      const { client } = connectTenant(args, io);
      const s =
        by !== undefined ? await client.sandboxes.extend({ id, addSeconds: seconds("by", by) }) : await client.sandboxes.extend({ id, expiresAt: until! });
      if (args.values.json) printJson(io, s);
      else io.out(`${id} expires at ${s.status.expiresAt ?? "(no deadline)"}`);
      return 0;
    },
  },
  tenantSettingGetCommand(
    "lifetime",
    "Show the default lifetime of a tenant's new sandboxes",
    (client, tenantId) => client.tenants.lifetime.get({ tenantId }),
    printLifetime,
  ),
  tenantSettingSetCommand(
    "lifetime",
    {
      summary: "Set the default lifetime of a tenant's new sandboxes (a sandbox's own spec.lifetime wins)",
      usage: "nimbus tenant lifetime set TENANT [--ttl DURATION] [--idle-timeout DURATION] [--on-expire stop|delete] [--clear] [--json]",
      description: "Replaces the whole default: fields not given are removed. --clear removes the default. Sandboxes already created keep their lifetime.",
      options: { ...LIFETIME_OPTIONS, clear: { type: "boolean", help: "remove the tenant's default lifetime" } },
    },
    (args) => {
      const lifetime = lifetimeOf(args);
      if (!lifetime && !args.values.clear) throw new UsageError("give --ttl, --idle-timeout or --on-expire, or --clear to remove the default");
      if (lifetime && args.values.clear) throw new UsageError("--clear removes the default: give it alone");
      return lifetime ?? {};
    },
    (client, tenantId, lifetime) => client.tenants.lifetime.set({ tenantId, lifetime }),
    printLifetime,
  ),
];
