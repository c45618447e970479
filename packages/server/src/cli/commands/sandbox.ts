/**
 * `nimbus sandbox create|ls|get|egress|network|logs|stop|rm`: thin wrappers over the SDK's
 * sandboxes namespace, acting in the tenant of --tenant / NIMBUS_TENANT_ID.
 */
import { readFileSync } from "node:fs";
import { apiPath, type Nimbus, type EgressLogEntry, type EgressRule, type LifecycleState, type LogLine, type ResourceSpec, type Sandbox } from "@nimbus/nimbus";
import { UsageError, type CliIo, type CommandDef, type OptionDef, type ParsedArgs } from "../command.js";
import { TENANT_CONNECTION_OPTIONS } from "../connect.js";
import { printDetails, type DetailRow } from "../details.js";
import { endpointText } from "../endpoint-text.js";
import { reportFailedStart } from "../failed-start.js";
import { JSON_OPTION, printJson, printTable, tableWriter } from "../output.js";
import { actCommand, tenantGetCommand } from "../resource-commands.js";
import { LIFETIME_OPTIONS, lifetimeOf } from "./lifetime.js";
import { standaloneRequest, waitUntilReady } from "../standalone-sandbox.js";
import {
  connectTenant,
  describeError,
  fieldsFromFlags,
  listValue,
  parseBytes,
  parseChoice,
  parseDuration,
  parsePair,
  parsePositive,
  parseTime,
  stringValue,
  type FieldFlag,
} from "../values.js";

const STATES: readonly LifecycleState[] = ["pending", "starting", "ready", "stopping", "stopped", "failed"];

/** How long a running sandbox gets between SIGTERM and SIGKILL (`docker stop --time`, `docker rm --force`). */
const GRACE_OPTIONS: Record<string, OptionDef> = {
  grace: { type: "string", help: "time between SIGTERM and SIGKILL, e.g. 500ms, 10s", default: "10s" },
  time: { type: "string", help: "the same in whole seconds, as docker's --time; 0 kills at once" },
  force: { type: "boolean", help: "SIGKILL at once (grace 0)" },
};

function gracePeriodOf(args: ParsedArgs): number | undefined {
  const grace = stringValue(args, "grace");
  const time = stringValue(args, "time");
  const given = [grace !== undefined, time !== undefined, args.values.force === true].filter(Boolean).length;
  if (given > 1) throw new UsageError("give one of --grace, --time or --force");
  if (args.values.force) return 0;
  if (time !== undefined) {
    if (!/^\d+$/.test(time.trim())) throw new UsageError(`--time: expected whole seconds, e.g. 0 or 10, got "${time}"`);
    return Number(time) * 1000;
  }
  return grace === undefined ? undefined : parseDuration("grace", grace);
}

/** Options of every command that prints a sandbox's log (also `nimbus service logs`). */
export const LOG_OPTIONS: Record<string, OptionDef> = {
  follow: { type: "boolean", short: "f", help: "keep printing new output until the sandbox ends (Ctrl-C to stop)" },
  tail: { type: "string", help: "only the last N lines", default: "all" },
};

/** How often `sandbox egress --follow` asks for new rows. */
const EGRESS_FOLLOW_POLL_MS = 1000;

/** The rules of `--egress-file` (a JSON array, or an object with `egress`); the server checks each rule. */
function egressRulesOf(args: ParsedArgs): EgressRule[] {
  const file = stringValue(args, "egress-file");
  if (file === undefined) throw new UsageError("--egress-file is required: a JSON array of egress rules, or - for stdin");
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new UsageError(`--egress-file: cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--egress-file: ${file} is not JSON (${(err as Error).message})`);
  }
  const rules = Array.isArray(parsed) ? parsed : (parsed as { egress?: unknown } | null)?.egress;
  if (!Array.isArray(rules)) throw new UsageError(`--egress-file: expected a JSON array of rules or an object with an "egress" array in ${file}`);
  return rules as EgressRule[];
}

/** `--memory`, `--cpus`, `--pids` → the sandbox's resource limits. */
const RESOURCE_FLAGS: Record<string, FieldFlag<ResourceSpec>> = {
  memory: ["memoryLimitBytes", parseBytes],
  cpus: ["cpuCount", (flag, v) => parsePositive(flag, v)],
  pids: ["pidsLimit", (flag, v) => parsePositive(flag, v, true)],
};

function formatLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function describeSandbox(io: CliIo, s: Sandbox): void {
  const st = s.status;
  printDetails(
    io,
    [
      ["id", s.metadata.id],
      ["tenant", s.metadata.tenantId],
      ["state", `${st.lifecycleState} (readiness ${st.readiness}, health ${st.health})`],
      ["reason", st.reason],
      ["exit code", st.exitCode],
      ["image", s.spec.sandbox.root.source.reference],
      ["image digest", st.imageDigest],
      [
        "phases",
        st.phases &&
          Object.entries(st.phases)
            .map(([k, v]) => `${k.replace(/Ms$/, "")} ${v} ms`)
            .join(", "),
      ],
      ["profile", s.spec.profile],
      ["labels", formatLabels(s.metadata.labels) || "-"],
      ...st.endpoints.map((ep): DetailRow => ["endpoint", endpointText(ep)]),
      ["created", s.metadata.createdAt],
      ["updated", s.metadata.updatedAt],
    ],
    st.conditions,
  );
}

/** Raw output, not line-based: log data keeps its own newlines. */
function writeLog(line: Pick<LogLine, "stream" | "data">): void {
  (line.stream === "stderr" ? process.stderr : process.stdout).write(line.data);
}

/** `--filter label=k=v`, `label=k` or `status=STATE` (as `docker ps --filter`). */
function filterOf(args: ParsedArgs): { status?: LifecycleState; labelKey?: string; labelValue?: string } {
  const out: { status?: LifecycleState; labelKey?: string; labelValue?: string } = {};
  const status = stringValue(args, "status");
  if (status !== undefined) out.status = parseChoice("status", status, STATES);
  const labels = [...listValue(args, "label"), ...listValue(args, "filter").map((f) => parseFilter(f, out))].filter((l): l is string => l !== undefined);
  if (labels.length > 1) throw new UsageError("only one label filter at a time");
  if (labels[0] !== undefined) [out.labelKey, out.labelValue] = labels[0].includes("=") ? parsePair("label", labels[0]) : [labels[0]];
  return out;
}

/** One `--filter` value: a status is stored in `out`, a label is returned. */
function parseFilter(f: string, out: { status?: LifecycleState }): string | undefined {
  const [key, value] = parsePair("filter", f);
  if (key === "label") return value;
  if (key === "status") return void (out.status = parseChoice("filter status", value, STATES));
  throw new UsageError(`--filter: expected label=KEY[=VALUE] or status=STATE, got "${f}"`);
}

/** The states `nimbus ps` hides unless -a is given, as `docker ps` hides exited containers. */
const ENDED: readonly LifecycleState[] = ["stopped", "failed"];

/** `sandbox ls` and its Docker-style alias `ps` (which hides ended sandboxes unless -a). */
function listCommand(path: string[], runningByDefault: boolean): CommandDef {
  return {
    path,
    summary: runningByDefault ? "List the tenant's running sandboxes (-a: all), like docker ps" : "List the tenant's sandboxes",
    usage: `nimbus ${path.join(" ")} [-a] [-q] [--filter label=k=v] [--status STATE] [--json]`,
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      all: { type: "boolean", short: "a", help: runningByDefault ? "also list stopped and failed sandboxes" : "list every sandbox (the default here)" },
      quiet: { type: "boolean", short: "q", help: "print only the ids" },
      filter: { type: "string", multiple: true, help: "label=KEY[=VALUE] or status=STATE (repeatable; one label)" },
      status: { type: "string", help: `only this lifecycle state: ${STATES.join(" | ")}` },
      label: { type: "string", help: "only sandboxes with this label: key=value, or key for any value" },
      ...JSON_OPTION,
    },
    async run(args, io) {
      const filter = filterOf(args);
      const { client } = connectTenant(args, io);
      const hideEnded = runningByDefault && !args.values.all && filter.status === undefined;
      const items: Sandbox[] = [];
      for await (const s of client.sandboxes.listAll(filter)) if (!hideEnded || !ENDED.includes(s.status.lifecycleState)) items.push(s);
      if (args.values.json) printJson(io, items);
      else if (args.values.quiet) for (const s of items) io.out(s.metadata.id);
      else
        printTable(
          io,
          ["id", "state", "reason", "image", "created", "labels"],
          items.map((s) => [
            s.metadata.id,
            s.status.lifecycleState,
            s.status.reason,
            s.spec.sandbox.root.source.reference,
            s.metadata.createdAt,
            formatLabels(s.metadata.labels),
          ]),
        );
      return 0;
    },
  };
}

/** Prints a sandbox's kept log, stdout to stdout and stderr to stderr. */
export async function printLog(client: Nimbus, tenantId: string, id: string, tail?: number): Promise<void> {
  // NDJSON rather than the SDK's text form, to keep stdout and stderr apart.
  const res = await client.send({
    method: "GET",
    path: apiPath`/api/tenants/${tenantId}/sandboxes/${id}/logs`,
    query: { tail },
    accept: "application/x-ndjson",
  });
  for (const line of (await res.text()).split("\n")) if (line.trim()) writeLog(JSON.parse(line) as LogLine);
}

export const sandboxCommands: CommandDef[] = [
  {
    path: ["sandbox", "create"],
    summary: "Create a sandbox from an image (optionally with its own argv after --)",
    usage: "nimbus sandbox create IMAGE [options] [-- ARGV...]",
    description:
      "Prints the new sandbox's id on stdout. Arguments after `--` replace the image's ENTRYPOINT and CMD. With --wait the command returns once the sandbox is ready and fails (exit 1) if it ends failed or stopped instead.",
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      name: { type: "string", help: "display name; the id starts with its slug", default: "sandbox" },
      label: { type: "string", multiple: true, help: "label key=value (repeatable)" },
      env: { type: "string", multiple: true, help: "environment K=V, or K to pass this shell's value (repeatable)" },
      memory: { type: "string", help: "memory limit in bytes or with a k/m/g suffix, e.g. 256m", default: "the tenant quota (512m)" },
      cpus: { type: "string", help: "CPU limit in cores, e.g. 0.5", default: "the tenant quota (1)" },
      pids: { type: "string", help: "limit on processes and threads", default: "the server's limit" },
      workdir: { type: "string", help: "working directory of the process", default: "the image's WorkingDir" },
      user: { type: "string", help: "user (name or uid[:gid]) of the process", default: "the image's User" },
      profile: { type: "string", help: "sandbox profile: worker | desktop", default: "worker" },
      init: { type: "boolean", help: "run an init (catatonit) as PID 1 that forwards signals and reaps zombies" },
      ...LIFETIME_OPTIONS,
      wait: { type: "boolean", help: "wait until the sandbox is ready; exit 1 if it fails first" },
      timeout: { type: "string", help: "with --wait: how long to wait, e.g. 30s or 2m", default: "2m" },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const profile = parseChoice("profile", stringValue(args, "profile") ?? "worker", ["worker", "desktop"] as const);
      const timeoutMs = parseDuration("timeout", stringValue(args, "timeout") ?? "2m");
      const resources = fieldsFromFlags(args, RESOURCE_FLAGS);
      const lifetime = lifetimeOf(args);
      const request = standaloneRequest(args, io, {
        profile,
        process: args.values.init ? { init: true } : {},
        spec: { ...(resources ? { resources } : {}), ...(lifetime ? { lifetime } : {}) },
      });
      const { client } = connectTenant(args, io);
      let sandbox = await client.sandboxes.create(request);
      const id = sandbox.metadata.id;
      if (args.values.wait) {
        if (!args.values.json) io.out(id);
        const ready = await waitUntilReady(client, id, timeoutMs);
        if (!ready) {
          await reportFailedStart(io, client, "sandbox create", id);
          return 1;
        }
        sandbox = ready;
        if (args.values.json) printJson(io, sandbox);
        else io.err(`sandbox ${id} is ready`);
        return 0;
      }
      if (args.values.json) printJson(io, sandbox);
      else {
        io.out(id);
        io.err(`sandbox ${id} is ${sandbox.status.lifecycleState}; \`nimbus sandbox get ${id}\` shows its progress`);
      }
      return 0;
    },
  },
  listCommand(["sandbox", "ls"], false),
  listCommand(["ps"], true),
  {
    path: ["sandbox", "egress"],
    summary: "Show a sandbox's egress decision log: every connection attempt and DNS query, with the rule that decided",
    usage: "nimbus sandbox egress ID [--decision allowed|denied] [--host NAME] [--since TIME] [-f|--follow] [--json]",
    description:
      "With --follow, new decisions are printed as they are logged (polled every second) until the sandbox stops or is deleted, or Ctrl-C; --json then prints one JSON object a line.",
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      decision: { type: "string", help: "only allowed or only denied attempts" },
      host: { type: "string", help: "only attempts whose name or address is exactly this" },
      since: { type: "string", help: "only attempts at or after this ISO 8601 time" },
      until: { type: "string", help: "only attempts at or before this ISO 8601 time" },
      follow: { type: "boolean", short: "f", help: "keep printing new decisions until the sandbox stops (Ctrl-C to stop)" },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const decision = stringValue(args, "decision");
      const filters = {
        id: args.positionals[0]!,
        ...(decision !== undefined ? { decision: parseChoice("decision", decision, ["allowed", "denied"] as const) } : {}),
        host: stringValue(args, "host"),
        since: parseTime("since", stringValue(args, "since")),
        until: parseTime("until", stringValue(args, "until")),
      };
      const { client } = connectTenant(args, io);
      /** Every row after `pageToken` (a row's seq), page by page. */
      const readAfter = async (pageToken: string | undefined): Promise<EgressLogEntry[]> => {
        const rows: EgressLogEntry[] = [];
        for (;;) {
          const page = await client.sandboxes.egressLog({ ...filters, ...(pageToken !== undefined ? { pageToken } : {}) });
          rows.push(...page.items);
          if (!page.metadata.nextPageToken || page.items.length === 0) return rows;
          pageToken = page.metadata.nextPageToken;
        }
      };
      const columns = ["time", "kind", "name", "address", "port", "decision", "rule", "reason"];
      const cells = (rows: EgressLogEntry[]) => rows.map((r) => [r.at, r.kind, r.name, r.address, r.port, r.decision, r.rule, r.reason]);
      const rows = await readAfter(undefined);
      if (!args.values.follow) {
        if (args.values.json) printJson(io, rows);
        else printTable(io, columns, cells(rows));
        return 0;
      }
      const table = tableWriter(io, columns);
      const print = (batch: EgressLogEntry[]) => (args.values.json ? batch.forEach((r) => io.out(JSON.stringify(r))) : table.write(cells(batch)));
      print(rows);
      let last = rows.at(-1)?.seq;
      for (;;) {
        await new Promise((r) => setTimeout(r, EGRESS_FOLLOW_POLL_MS));
        // The state first: rows logged before it stopped are still read below.
        const state = await client.sandboxes.get({ id: filters.id }).then(
          (s) => s.status.lifecycleState,
          (err: { status?: number }) => {
            if (err?.status === 404) return "deleted";
            throw err;
          },
        );
        if (state === "deleted") return 0;
        const batch = await readAfter(last === undefined ? undefined : String(last));
        print(batch);
        last = batch.at(-1)?.seq ?? last;
        if (state === "stopped" || state === "failed") return 0;
      }
    },
  },
  {
    path: ["sandbox", "network"],
    summary: "Replace a running sandbox's egress rules (new connections follow them at once; open ones they refuse are closed)",
    usage: "nimbus sandbox network ID --egress-file FILE|- [--resource-version V] [--json]",
    description:
      'FILE holds a JSON array of rules (or an object with an "egress" array), e.g. [{"host": "pypi.org", "protocol": "https"}]; - reads it from stdin; [] refuses everything. Without --resource-version the sandbox\'s current one is used; with it, a sandbox that changed since is refused (412).',
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      "egress-file": { type: "string", help: "the rules, as JSON (- for stdin)" },
      "resource-version": { type: "string", help: "refuse unless the sandbox is still at this resourceVersion" },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const id = args.positionals[0]!;
      const egress = egressRulesOf(args);
      const { client } = connectTenant(args, io);
      const resourceVersion = stringValue(args, "resource-version") ?? (await client.sandboxes.get({ id })).metadata.resourceVersion;
      const s = await client.sandboxes.updateNetwork({ id, resourceVersion, egress });
      if (args.values.json) printJson(io, s);
      else io.out(`${s.metadata.id}: ${egress.length} egress rule(s), resourceVersion ${s.metadata.resourceVersion}`);
      return 0;
    },
  },
  tenantGetCommand(
    "sandbox",
    "ID",
    "Show one sandbox: state, reason, exit code, image, phases, labels, conditions",
    (c, id) => c.sandboxes.get({ id }),
    describeSandbox,
  ),
  {
    path: ["sandbox", "logs"],
    summary: "Print a sandbox's main process output (stdout to stdout, stderr to stderr)",
    usage: "nimbus sandbox logs ID [-f|--follow] [--tail N]",
    options: { ...TENANT_CONNECTION_OPTIONS, ...LOG_OPTIONS },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const id = args.positionals[0]!;
      const tailRaw = stringValue(args, "tail");
      const tail = tailRaw === undefined || tailRaw === "all" ? undefined : tailRaw === "0" ? 0 : parsePositive("tail", tailRaw, true);
      const { tenantId, client } = connectTenant(args, io);
      if (args.values.follow) {
        for await (const line of client.sandboxes.logs({ id, follow: true, ...(tail !== undefined ? { tail } : {}) })) writeLog(line);
        return 0;
      }
      await printLog(client, tenantId, id, tail);
      // A start that failed has no process output; the runtime's error is what explains it.
      const st = (await client.sandboxes.get({ id })).status;
      if (st.reason === "start_failed" || st.reason === "pull_failed") {
        for (const c of st.conditions) if (c.message && c.status !== "True") io.err(`nimbus sandbox logs: ${st.reason}: ${c.message}`);
      }
      return 0;
    },
  },
  actCommand(
    {
      path: ["sandbox", "stop"],
      summary: "Stop a sandbox: SIGTERM, then SIGKILL after the grace period (idempotent)",
      usage: "nimbus sandbox stop ID [--grace 10s | --time SECONDS | --force]",
      options: { ...TENANT_CONNECTION_OPTIONS, ...GRACE_OPTIONS },
      positionals: { min: 1, max: 1 },
    },
    async (args, io) => {
      const gracePeriodMs = gracePeriodOf(args);
      const s = await connectTenant(args, io).client.sandboxes.stop({ id: args.positionals[0]!, ...(gracePeriodMs !== undefined ? { gracePeriodMs } : {}) });
      return `${s.metadata.id} ${s.status.lifecycleState}${s.status.exitCode !== undefined ? ` (exit code ${s.status.exitCode})` : ""}`;
    },
  ),
  {
    path: ["sandbox", "rm"],
    summary: "Delete sandboxes from any state (running ones are stopped first)",
    usage: "nimbus sandbox rm ID... [--grace 10s | --time SECONDS | --force]",
    options: { ...TENANT_CONNECTION_OPTIONS, ...GRACE_OPTIONS },
    positionals: { min: 1, max: 1000 },
    async run(args, io) {
      const gracePeriodMs = gracePeriodOf(args);
      const { client } = connectTenant(args, io);
      let failed = 0;
      for (const id of args.positionals) {
        try {
          await client.sandboxes.delete({ id, ...(gracePeriodMs !== undefined ? { gracePeriodMs } : {}) });
          io.out(`deleted ${id}`);
        } catch (err) {
          io.err(describeError("sandbox rm", err));
          failed++;
        }
      }
      return failed ? 1 : 0;
    },
  },
];
