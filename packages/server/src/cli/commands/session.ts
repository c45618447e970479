/**
 * `nimbus session open|ls|get|close`: TTL leases on a ready sandbox, thin
 * wrappers over the SDK's sessions namespace in the tenant of --tenant /
 * NIMBUS_TENANT_ID.
 */
import type { Session, SessionChannel, SessionState } from "@nimbus/nimbus";
import type { CliIo, CommandDef } from "../command.js";
import { TENANT_CONNECTION_OPTIONS } from "../connect.js";
import { printDetails } from "../details.js";
import { JSON_OPTION, printJson } from "../output.js";
import { actCommand, collect, listCommand, tenantGetCommand } from "../resource-commands.js";
import { connectTenant, listValue, parseChoice, parseDuration, stringValue } from "../values.js";

const CHANNELS: readonly SessionChannel[] = ["stdio", "files", "exec"];
const STATES: readonly SessionState[] = ["open", "closed", "expired"];

function targetOf(s: Session): string {
  const t = s.spec.target;
  return "sandbox" in t ? `sandbox ${t.sandbox.id}` : `service ${t.service.name}`;
}

function describeSession(io: CliIo, s: Session): void {
  const snap = s.spec.targetSnapshot;
  printDetails(
    io,
    [
      ["id", s.metadata.id],
      ["tenant", s.metadata.tenantId],
      ["state", s.status.lifecycleState],
      ["target", targetOf(s)],
      [
        "pinned",
        "sandbox" in snap
          ? `sandbox ${snap.sandbox.id} generation ${snap.sandbox.generation}`
          : `service ${snap.service.name} generation ${snap.service.generation} (sandbox ${snap.service.sandboxId})`,
      ],
      ["channels", s.spec.channels.join(", ")],
      ["expires", s.status.expiresAt],
      ["closed", s.status.closedAt],
      ["close reason", s.status.closeReason],
      ["created", s.metadata.createdAt],
    ],
    s.status.conditions,
  );
}

export const sessionCommands: CommandDef[] = [
  {
    path: ["session", "open"],
    summary: "Open a session (a TTL lease) on a ready sandbox",
    usage: "nimbus session open SANDBOX_ID [--channel stdio]... [--ttl 5m] [--json]",
    description: "Prints the session id on stdout and its expiry on stderr. Closing or expiring the session never stops the sandbox.",
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      channel: { type: "string", multiple: true, help: `channel to open: ${CHANNELS.join(" | ")} (repeatable)`, default: "stdio" },
      ttl: { type: "string", help: "lease length, e.g. 90s, 5m, 1h; the server caps it at 1h", default: "15m" },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const given = listValue(args, "channel");
      const channels = (given.length ? given : ["stdio"]).map((c) => parseChoice("channel", c, CHANNELS));
      const ttl = stringValue(args, "ttl");
      const requestedTtlMs = ttl === undefined ? undefined : parseDuration("ttl", ttl);
      const { client } = connectTenant(args, io);
      const s = await client.sessions.open({
        target: { sandbox: { id: args.positionals[0]! } },
        channels,
        ...(requestedTtlMs !== undefined ? { requestedTtlMs } : {}),
      });
      if (args.values.json) printJson(io, s);
      else {
        io.out(s.metadata.id);
        io.err(`session ${s.metadata.id} on ${targetOf(s)} (${s.spec.channels.join(", ")}) expires at ${s.spec.expiresAt}`);
      }
      return 0;
    },
  },
  listCommand(
    {
      path: ["session", "ls"],
      summary: "List the tenant's sessions",
      usage: "nimbus session ls [--status open|closed|expired] [--json]",
      options: { ...TENANT_CONNECTION_OPTIONS, status: { type: "string", help: `only this state: ${STATES.join(" | ")}`, default: "all" } },
    },
    (args, io) => {
      const raw = stringValue(args, "status");
      const status = raw === undefined || raw === "all" ? undefined : parseChoice("status", raw, STATES);
      return collect(connectTenant(args, io).client.sessions.listAll(status ? { state: status } : {}));
    },
    {
      columns: ["id", "state", "target", "channels", "expires", "created"],
      row: (s) => [s.metadata.id, s.status.lifecycleState, targetOf(s), s.spec.channels.join(","), s.status.expiresAt, s.metadata.createdAt],
    },
  ),
  tenantGetCommand("session", "ID", "Show one session: state, target, channels, expiry", (c, id) => c.sessions.get({ id }), describeSession),
  actCommand(
    {
      path: ["session", "close"],
      summary: "Close a session (the sandbox keeps running; closing twice is fine)",
      usage: "nimbus session close ID [--reason R]",
      options: { ...TENANT_CONNECTION_OPTIONS, reason: { type: "string", help: "why, recorded as the close reason", default: "the server's (client_closed)" } },
      positionals: { min: 1, max: 1 },
    },
    async (args, io) => {
      const reason = stringValue(args, "reason");
      const s = await connectTenant(args, io).client.sessions.close({ id: args.positionals[0]!, ...(reason !== undefined ? { reason } : {}) });
      return `${s.metadata.id} ${s.status.lifecycleState}${s.status.closeReason ? ` (${s.status.closeReason})` : ""}`;
    },
  ),
];
