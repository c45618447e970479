/**
 * `nimbus service create|ls|get|start|stop|restart|rm|logs`: thin wrappers
 * over the SDK's services namespace, acting in the tenant of --tenant /
 * NIMBUS_TENANT_ID. `logs` shows the output of the service's current sandbox.
 */
import { imageServiceSpec, type PortSpec, type ProcessSpec, type ReadinessProbe, type RestartPolicy, type ServiceView } from "@nimbus/nimbus";
import { endpointText } from "../endpoint-text.js";
import { UsageError, type CliIo, type CommandDef, type ParsedArgs } from "../command.js";
import { TENANT_CONNECTION_OPTIONS } from "../connect.js";
import { printDetails, type DetailRow } from "../details.js";
import { JSON_OPTION, printJson } from "../output.js";
import { actCommand, collect, listCommand, tenantGetCommand } from "../resource-commands.js";
import { connectTenant, listValue, parseChoice, parseDuration, parsePair, parsePositive, stringValue } from "../values.js";
import { LOG_OPTIONS, sandboxCommands } from "./sandbox.js";

const POLICIES: readonly RestartPolicy[] = ["never", "on_failure", "always"];
const WAIT_OPTIONS = {
  wait: { type: "boolean" as const, help: "wait until the service is ready; exit 1 if it fails first" },
  timeout: { type: "string" as const, help: "with --wait: how long to wait, e.g. 30s or 2m", default: "2m" },
};

/** `8080`, `8080/http`, `web=8080`, `web=8080/http`. */
export function parsePort(value: string): PortSpec {
  const m = /^(?:([a-z0-9][a-z0-9-]{0,30})=)?(\d{1,5})(?:\/(tcp|http))?(@host)?$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--port: expected [NAME=]PORT[/tcp|http][@host], e.g. 8080 or web=8080/http@host, got "${value}"`);
  return { ...(m[1] ? { name: m[1] } : {}), port, ...(m[3] ? { protocol: m[3] as "tcp" | "http" } : {}), ...(m[4] ? { publish: "host" as const } : {}) };
}

function probeOf(args: ParsedArgs, ports: PortSpec[]): ReadinessProbe | undefined {
  const http = stringValue(args, "probe-http");
  const tcp = stringValue(args, "probe-tcp");
  if (http !== undefined && tcp !== undefined) throw new UsageError("give --probe-http or --probe-tcp, not both");
  if (tcp !== undefined) return { tcp: { port: parsePositive("probe-tcp", tcp, true) } };
  if (http === undefined) return undefined;
  const [path, port] = http.startsWith("/") ? [http, ports[0]?.port] : [http.slice(http.indexOf("/")), Number(http.slice(0, http.indexOf("/")))];
  if (!port || !path.startsWith("/")) throw new UsageError(`--probe-http: expected /PATH (on the first --port) or PORT/PATH, got "${http}"`);
  return { http: { path, port } };
}

function describeService(io: CliIo, v: ServiceView): void {
  printDetails(io, [
    ["name", v.name],
    ["tenant", v.tenantId],
    ["state", `${v.state} (lifecycle ${v.lifecycleState}, readiness ${v.readiness}, health ${v.health})`],
    ["generation", v.generation],
    ["sandbox", v.sandboxId],
    ["backend", v.backend],
    ["restarts", v.restartCount],
    ["exit code", v.exitCode],
    ["message", v.message],
    ...v.endpoints.map((ep): DetailRow => ["endpoint", endpointText(ep)]),
  ]);
}

/** Waits for `ready` after start/restart; prints the outcome. */
async function finish(args: ParsedArgs, io: CliIo, verb: string, view: ServiceView, wait: () => Promise<ServiceView>): Promise<number> {
  let v = view;
  if (args.values.wait) {
    try {
      v = await wait();
    } catch (err) {
      const e = err as { code?: unknown; detail?: Record<string, unknown> | null };
      if (e.code !== "op.conflict") throw err;
      io.err(
        `nimbus service ${verb}: service ${view.name} ended ${String(e.detail?.lifecycleState ?? "failed")} before it was ready; see \`nimbus service get ${view.name}\` and \`nimbus service logs ${view.name}\``,
      );
      return 1;
    }
  }
  if (args.values.json) printJson(io, v);
  else io.out(`${v.name} ${v.state}${v.sandboxId ? ` (sandbox ${v.sandboxId})` : ""}`);
  return 0;
}

/** `service start` and `service restart`: the same options, the same --wait handling. */
function launchCommand(verb: "start" | "restart", summary: string): CommandDef {
  return {
    path: ["service", verb],
    summary,
    usage: `nimbus service ${verb} NAME [--wait [--timeout 2m]]`,
    options: { ...TENANT_CONNECTION_OPTIONS, ...WAIT_OPTIONS, ...JSON_OPTION },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const name = args.positionals[0]!;
      const timeoutMs = parseDuration("timeout", stringValue(args, "timeout") ?? "2m");
      const { client } = connectTenant(args, io);
      return finish(args, io, verb, await client.services[verb]({ name }), () => client.services.wait({ name, until: "ready", timeoutMs }));
    },
  };
}

export const serviceCommands: CommandDef[] = [
  {
    path: ["service", "create"],
    summary: "Define a service that runs an image in a supervised sandbox (it starts with `service start`)",
    usage: "nimbus service create NAME IMAGE [--port 8080]... [--restart on_failure] [options] [-- ARGV...]",
    description:
      "Arguments after `--` replace the image's ENTRYPOINT and CMD. Each --port is reachable by name through the authenticated /api/tenants/T/services/NAME/proxy/ while the service runs; `--port 8080@host` also opens an unauthenticated listener on 127.0.0.1 (see `service get`) that any local user can reach.",
    options: {
      ...TENANT_CONNECTION_OPTIONS,
      port: {
        type: "string",
        multiple: true,
        help: "a port the service listens on: [NAME=]PORT[/tcp|http][@host] (repeatable; @host also listens on 127.0.0.1, unauthenticated)",
      },
      restart: { type: "string", help: `restart policy: ${POLICIES.join(" | ")}`, default: "on_failure" },
      "max-restarts": { type: "string", help: "restarts before the service is left failed", default: "5" },
      "probe-http": { type: "string", help: "readiness probe: GET /PATH on the first --port, or PORT/PATH" },
      "probe-tcp": { type: "string", help: "readiness probe: something listens on PORT" },
      env: { type: "string", multiple: true, help: "environment K=V (repeatable)" },
      label: { type: "string", multiple: true, help: "label key=value (repeatable)" },
      ...JSON_OPTION,
    },
    positionals: { min: 2, max: 2 },
    async run(args, io) {
      const [name, image] = args.positionals as [string, string];
      const ports = listValue(args, "port").map(parsePort);
      const restart = stringValue(args, "restart");
      const maxRestarts = stringValue(args, "max-restarts");
      const env = listValue(args, "env").map((e) => parsePair("env", e).join("="));
      const labels = Object.fromEntries(listValue(args, "label").map((l) => parsePair("label", l)));
      const readinessProbe = probeOf(args, ports);
      const proc: ProcessSpec = { ...(args.rest.length ? { argv: args.rest } : {}), ...(env.length ? { env } : {}) };
      const def = await connectTenant(args, io).client.services.create({
        metadata: { name, labels },
        spec: imageServiceSpec({
          image,
          process: Object.keys(proc).length ? proc : undefined,
          ports,
          restartPolicy: restart !== undefined ? parseChoice("restart", restart, POLICIES) : undefined,
          maxRestarts: maxRestarts !== undefined ? (maxRestarts === "0" ? 0 : parsePositive("max-restarts", maxRestarts, true)) : undefined,
          readinessProbe,
        }),
      });
      if (args.values.json) printJson(io, def);
      else io.out(`created service ${def.metadata.name} (generation ${def.metadata.generation}); start it with \`nimbus service start ${name}\``);
      return 0;
    },
  },
  listCommand(
    { path: ["service", "ls"], summary: "List the tenant's services", usage: "nimbus service ls [--json]", options: TENANT_CONNECTION_OPTIONS },
    (args, io) => collect(connectTenant(args, io).client.services.listAll()),
    {
      columns: ["name", "state", "health", "sandbox", "restarts", "endpoints"],
      row: (s) => [
        s.name,
        s.state,
        s.health,
        s.sandboxId,
        s.restartCount,
        s.endpoints.map((e) => (e.publish === "host" ? `${e.host}:${e.port}` : `proxy:${e.targetPort}`)).join(","),
      ],
    },
  ),
  tenantGetCommand("service", "NAME", "Show one service: state, health, sandbox, endpoints, restarts", (c, name) => c.services.get({ name }), describeService),
  launchCommand("start", "Start a service (launches its sandbox)"),
  launchCommand("restart", "Replace a service's sandbox with a fresh one"),
  actCommand(
    {
      path: ["service", "stop"],
      summary: "Stop a service's sandbox: SIGTERM, then SIGKILL after the grace period (the definition stays)",
      usage: "nimbus service stop NAME [--grace 10s]",
      options: { ...TENANT_CONNECTION_OPTIONS, grace: { type: "string", help: "time between SIGTERM and SIGKILL, e.g. 500ms, 10s", default: "10s" } },
      positionals: { min: 1, max: 1 },
    },
    async (args, io) => {
      const grace = stringValue(args, "grace");
      const v = await connectTenant(args, io).client.services.stop({
        name: args.positionals[0]!,
        ...(grace !== undefined ? { gracePeriodMs: parseDuration("grace", grace) } : {}),
      });
      return `${v.name} ${v.state}`;
    },
  ),
  actCommand(
    {
      path: ["service", "rm"],
      summary: "Delete a service definition (with --force also when it runs or has open sessions)",
      usage: "nimbus service rm NAME [--force]",
      options: { ...TENANT_CONNECTION_OPTIONS, force: { type: "boolean", help: "close its sessions and stop and delete its sandbox first" } },
      positionals: { min: 1, max: 1 },
    },
    async (args, io) => {
      const name = args.positionals[0]!;
      const { client } = connectTenant(args, io);
      const { generation } = await client.services.get({ name });
      if (generation === undefined) throw new UsageError("this server does not report service generations; delete through the API with ifMatchGeneration");
      await client.services.delete({ name, ifMatchGeneration: generation, force: args.values.force === true });
      return `deleted service ${name}`;
    },
  ),
  {
    path: ["service", "logs"],
    summary: "Print the output of a service's current sandbox (stdout to stdout, stderr to stderr)",
    usage: "nimbus service logs NAME [-f|--follow] [--tail N]",
    options: { ...TENANT_CONNECTION_OPTIONS, ...LOG_OPTIONS },
    positionals: { min: 1, max: 1 },
    async run(args, io) {
      const name = args.positionals[0]!;
      const view = await connectTenant(args, io).client.services.get({ name });
      if (!view.sandboxId) {
        io.err(`nimbus service logs: service ${name} has not run yet; start it with \`nimbus service start ${name}\``);
        return 1;
      }
      const sandboxLogs = sandboxCommands.find((c) => c.path.join(" ") === "sandbox logs")!;
      return sandboxLogs.run({ ...args, positionals: [view.sandboxId] }, io);
    },
  },
];
