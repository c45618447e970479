/**
 * `nimbus registry login|ls|logout`: a tenant's registry credentials through
 * the SDK. The password is read from standard input (never from an argument,
 * so it stays out of shell history and the host's `ps`) and never shown again.
 */
import type { CommandDef } from "../command.js";
import { UsageError } from "../command.js";
import { TENANT_CONNECTION_OPTIONS, connect } from "../connect.js";
import { actCommand, listCommand, oneArgCommand } from "../resource-commands.js";
import { readValue } from "./secret.js";

export const registryCommands: CommandDef[] = [
  actCommand(
    {
      path: ["registry", "login"],
      summary: "Store a tenant's credentials for a registry host (password from stdin); the tenant's pulls present them",
      usage: "nimbus registry login HOST --username NAME [--tenant T] < password",
      description:
        "HOST is host[:port] (docker.io for Docker Hub). The password or access token is stored encrypted and never shown again; pulls for other tenants and the operator's never use it.",
      options: { ...TENANT_CONNECTION_OPTIONS, username: { type: "string", short: "u", help: "the registry user name" } },
      positionals: { min: 1, max: 1 },
    },
    async (args, io) => {
      const username = typeof args.values.username === "string" ? args.values.username : "";
      if (username === "") throw new UsageError("name the registry user with --username");
      const registry = args.positionals[0]!;
      const password = await readValue(`printf %s "$TOKEN" | nimbus registry login ${registry} --username ${username}`);
      const c = await connect(io, args.values).client.registryCredentials.set({ registry, username, password });
      return `stored credentials of ${c.username} for ${c.registry}`;
    },
  ),
  listCommand(
    {
      path: ["registry", "ls"],
      summary: "List the registries a tenant holds credentials for (never the passwords)",
      usage: "nimbus registry ls [--tenant T] [--json]",
      options: { ...TENANT_CONNECTION_OPTIONS },
    },
    (args, io) => connect(io, args.values).client.registryCredentials.list(),
    { columns: ["registry", "username", "updated"], row: (c) => [c.registry, c.username, c.updatedAt] },
  ),
  oneArgCommand(
    {
      path: ["registry", "logout"],
      summary: "Remove a tenant's credentials for a registry host",
      usage: "nimbus registry logout HOST [--tenant T]",
      options: { ...TENANT_CONNECTION_OPTIONS },
    },
    (client, registry) => client.registryCredentials.delete({ registry }).then(() => `removed credentials for ${registry}`),
  ),
];
