/**
 * `nimbus tenant create|ls|rm` and `nimbus tenant key create|ls|rm`: thin
 * wrappers over the SDK's admin namespace.
 */
import type { CommandDef } from "../command.js";
import { CONNECTION_OPTIONS, connect } from "../connect.js";
import { JSON_OPTION, printJson } from "../output.js";
import { actCommand, listCommand, oneArgCommand, tenantSettingGetCommand, tenantSettingSetCommand } from "../resource-commands.js";

export const tenantCommands: CommandDef[] = [
  oneArgCommand(
    { path: ["tenant", "create"], summary: "Create a tenant", usage: "nimbus tenant create ID", options: { ...CONNECTION_OPTIONS } },
    (client, id) => client.tenants.create({ id }).then((r) => `created tenant ${r.id}`),
  ),
  listCommand(
    { path: ["tenant", "ls"], summary: "List tenants", usage: "nimbus tenant ls [--json]", options: { ...CONNECTION_OPTIONS } },
    (args, io) => connect(io, args.values).client.tenants.list(),
    { columns: ["id"], row: (t) => [t] },
  ),
  oneArgCommand(
    {
      path: ["tenant", "rm"],
      summary: "Delete a tenant with all its sandboxes, sessions, services and keys",
      usage: "nimbus tenant rm ID",
      options: { ...CONNECTION_OPTIONS },
    },
    (client, id) => client.tenants.delete({ id }).then(() => `deleted tenant ${id}`),
  ),
  {
    path: ["tenant", "key", "create"],
    summary: "Create an API key for a tenant (printed once; store it now)",
    usage: "nimbus tenant key create TENANT [--name NAME] [--json]",
    options: { ...CONNECTION_OPTIONS, ...JSON_OPTION, name: { type: "string", help: "a label to recognise the key by" } },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const name = typeof args.values.name === "string" ? args.values.name : undefined;
      const key = await connect(io, args.values).client.tenants.apiKeys.create({ tenantId: args.positionals[0]!, ...(name ? { name } : {}) });
      if (args.values.json) printJson(io, key);
      else {
        io.out(key.key);
        io.err(`key ${key.id} for tenant ${args.positionals[0]}: shown once, it cannot be retrieved again`);
      }
      return 0;
    },
  },
  listCommand(
    {
      path: ["tenant", "key", "ls"],
      summary: "List a tenant's API keys (never the secrets)",
      usage: "nimbus tenant key ls TENANT [--json]",
      options: { ...CONNECTION_OPTIONS },
      positionals: { min: 1, max: 1 },
    },
    (args, io) => connect(io, args.values).client.tenants.apiKeys.list({ tenantId: args.positionals[0]! }),
    { columns: ["id", "name", "created", "last used"], row: (k) => [k.id, k.name, k.createdAt, k.lastUsedAt] },
  ),
  actCommand(
    {
      path: ["tenant", "key", "rm"],
      summary: "Revoke a tenant API key",
      usage: "nimbus tenant key rm TENANT KEY_ID",
      options: { ...CONNECTION_OPTIONS },
      positionals: { min: 2, max: 2 },
    },
    async (args, io) => {
      await connect(io, args.values).client.tenants.apiKeys.revoke({ tenantId: args.positionals[0]!, id: args.positionals[1]! });
      return `revoked key ${args.positionals[1]}`;
    },
  ),
  tenantSettingGetCommand(
    "egress",
    "Show a tenant's egress ceiling (what its sandboxes may ever ask for)",
    (client, tenantId) => client.tenants.egress.get({ tenantId }),
    (io, c) => {
      io.out(`hosts:     ${c.hosts.join(", ") || "(none)"}`);
      io.out(`ports:     ${c.ports.join(", ") || "(none)"}`);
      io.out(`addresses: ${c.allowAddresses ? "allowed" : "not allowed"}${c.custom ? "" : "   (the default ceiling)"}`);
    },
  ),
  tenantSettingSetCommand(
    "egress",
    {
      summary: "Set a tenant's egress ceiling",
      usage: "nimbus tenant egress set TENANT --host PATTERN… --port PORT… [--allow-addresses]",
      description:
        "PATTERN is *, a host name, *.suffix, or (with --allow-addresses) an IP or CIDR; PORT is a number or a from-to range. Sandbox egress rules outside the ceiling are refused when the sandbox is created.",
      options: {
        host: { type: "string", multiple: true, help: "a host pattern sandboxes may name (repeat for more)" },
        port: { type: "string", multiple: true, help: "a port or from-to range (repeat for more)" },
        "allow-addresses": { type: "boolean", help: "let sandbox rules name literal IPs and CIDRs" },
      },
    },
    (args) => ({
      hosts: (args.values.host as string[] | undefined) ?? [],
      ports: ((args.values.port as string[] | undefined) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      allowAddresses: args.values["allow-addresses"] === true,
    }),
    (client, tenantId, ceiling) => client.tenants.egress.set({ tenantId, ...ceiling }),
    (io, c, tenantId) => io.out(`egress ceiling of ${tenantId}: hosts ${c.hosts.join(", ") || "(none)"}; ports ${c.ports.join(", ") || "(none)"}`),
  ),
];
