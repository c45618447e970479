/**
 * `nimbus secret set|ls|rm`: a tenant's secrets through the SDK. The value is
 * read from standard input (never from an argument, so it stays out of shell
 * history and the host's `ps`); one trailing newline is dropped.
 */
import type { CommandDef } from "../command.js";
import { UsageError } from "../command.js";
import { TENANT_CONNECTION_OPTIONS, connect } from "../connect.js";
import { actCommand, listCommand, oneArgCommand } from "../resource-commands.js";

const MAX_VALUE_BYTES = 16384;

/** Reads a secret value from standard input (never an argument); `example` shows how to pipe it. */
export async function readValue(example = 'printf %s "$KEY" | nimbus secret set NAME --host api.example.com'): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError(`pipe the value on standard input, e.g. \`${example}\``);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_VALUE_BYTES + 2) throw new UsageError(`the value is longer than ${MAX_VALUE_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  const value = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (value === "") throw new UsageError("no value on standard input");
  return value;
}

export const secretCommands: CommandDef[] = [
  actCommand(
    {
      path: ["secret", "set"],
      summary: "Set a tenant secret (value from stdin; sandboxes see only a placeholder)",
      usage: "nimbus secret set NAME --host HOST [--host HOST…] [--header NAME] [--format TEMPLATE] < value",
      description:
        "The egress proxy puts the value into requests to the named hosts (exact names or *.suffix patterns) only. A sandbox whose spec lists the secret under network.secrets sees NIMBUS_SECRET_<NAME>=nimbus-secret://<NAME>. The value is stored encrypted and never shown again.",
      options: {
        ...TENANT_CONNECTION_OPTIONS,
        host: { type: "string", multiple: true, help: "a host the value may be sent to (repeat for more)" },
        header: { type: "string", help: "the header the value goes in", default: "Authorization" },
        format: { type: "string", help: "how the value is written, {value} standing for it", default: "Bearer {value}" },
      },
      positionals: { min: 1, max: 1 },
    },
    async (args, io) => {
      const hosts = (args.values.host as string[] | undefined) ?? [];
      if (hosts.length === 0) throw new UsageError("name at least one --host the secret may be sent to");
      const value = await readValue();
      const header = typeof args.values.header === "string" ? args.values.header : undefined;
      const format = typeof args.values.format === "string" ? args.values.format : undefined;
      const s = await connect(io, args.values).client.secrets.set({
        name: args.positionals[0]!,
        value,
        hosts,
        ...(header ? { header } : {}),
        ...(format ? { format } : {}),
      });
      return `set secret ${s.name} for ${s.hosts.join(", ")}`;
    },
  ),
  listCommand(
    {
      path: ["secret", "ls"],
      summary: "List the tenant's secrets (never their values)",
      usage: "nimbus secret ls [--json]",
      options: { ...TENANT_CONNECTION_OPTIONS },
    },
    (args, io) => connect(io, args.values).client.secrets.list(),
    { columns: ["name", "hosts", "header", "updated"], row: (s) => [s.name, s.hosts.join(","), s.header, s.updatedAt] },
  ),
  oneArgCommand(
    { path: ["secret", "rm"], summary: "Remove a tenant secret", usage: "nimbus secret rm NAME", options: { ...TENANT_CONNECTION_OPTIONS } },
    (client, name) => client.secrets.delete({ name }).then(() => `removed secret ${name}`),
  ),
];
