/**
 * `nimbus tenant limits get|set`: a tenant's aggregate ceilings and
 * concurrency caps, through the SDK's `tenants.limits`.
 */
import type { TenantLimits } from "@nimbus/nimbus";
import { UsageError, type CommandDef, type OptionDef } from "../command.js";

import { printTable } from "../output.js";
import { tenantSettingGetCommand, tenantSettingSetCommand } from "../resource-commands.js";
import { parseBytes, parsePositive } from "../values.js";

/** Flag → limit field and how its value is read; `default` unpins the field. */
const LIMIT_FLAGS: Record<string, { field: keyof TenantLimits; parse: (flag: string, v: string) => number; help: string }> = {
  memory: { field: "memoryLimitBytes", parse: parseBytes, help: "memory of all the tenant's sandboxes together, e.g. 4g" },
  cpus: { field: "cpuCount", parse: (f, v) => parsePositive(f, v), help: "CPU cores of all the tenant's sandboxes together, e.g. 1.5" },
  pids: { field: "pidsLimit", parse: (f, v) => parsePositive(f, v, true), help: "processes of all the tenant's sandboxes together" },
  "max-sandboxes": { field: "maxSandboxes", parse: count, help: "active sandboxes" },
  "max-sessions": { field: "maxSessions", parse: count, help: "open sessions" },
  "max-websockets": { field: "maxWebSockets", parse: count, help: "open WebSocket connections" },
  "max-execs": { field: "maxExecs", parse: count, help: "exec processes running at once" },
  "max-pulls": { field: "maxPulls", parse: count, help: "distinct images being pulled at once for the tenant's sandboxes" },
};

function count(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < 0) throw new UsageError(`--${flag}: expected a whole number >= 0, got "${v}"`);
  return n;
}

const SET_OPTIONS: Record<string, OptionDef> = Object.fromEntries(
  Object.entries(LIMIT_FLAGS).map(([flag, d]) => [flag, { type: "string", help: `${d.help}; \`default\` returns it to the server default` }]),
);

function printLimits(io: Parameters<CommandDef["run"]>[1], view: { limits: TenantLimits; overrides: Partial<TenantLimits> }): void {
  printTable(
    io,
    ["limit", "value", "source"],
    Object.entries(LIMIT_FLAGS).map(([flag, d]) => [flag, view.limits[d.field], d.field in view.overrides ? "tenant" : "default"]),
  );
}

export const tenantLimitCommands: CommandDef[] = [
  tenantSettingGetCommand(
    "limits",
    "Show a tenant's aggregate ceilings and concurrency caps",
    (client, tenantId) => client.tenants.limits.get({ tenantId }),
    printLimits,
  ),
  tenantSettingSetCommand(
    "limits",
    {
      summary: "Pin a tenant's ceilings and caps (running sandboxes get new ceilings at once)",
      usage:
        "nimbus tenant limits set TENANT [--memory SIZE] [--cpus N] [--pids N] [--max-sandboxes N] [--max-sessions N] [--max-websockets N] [--max-execs N] [--max-pulls N] [--json]",
      options: SET_OPTIONS,
    },
    (args) => {
      const limits: { [K in keyof TenantLimits]?: number | null } = {};
      for (const [flag, d] of Object.entries(LIMIT_FLAGS)) {
        const v = args.values[flag];
        if (typeof v !== "string") continue;
        limits[d.field] = v === "default" ? null : d.parse(flag, v);
      }
      if (Object.keys(limits).length === 0) throw new UsageError(`give at least one limit to set, e.g. --memory 4g (see nimbus tenant limits set --help)`);
      return limits;
    },
    (client, tenantId, limits) => client.tenants.limits.set({ tenantId, limits }),
    printLimits,
  ),
];
