/**
 * The server's configuration: one table of options, each with its flag, its
 * `NIMBUS_*` environment variable, its default and its help text. Parsed once
 * by `nimbus start` (flag > env > default) and passed down; nothing else
 * reads process.env for server settings.
 */
import type { TenantLimits } from "@nimbus/nimbus";
import { resolve } from "node:path";
import { isIP } from "node:net";

export type OptionKind = "string" | "number" | "boolean" | "list";

export interface OptionSpec {
  flag: string;
  env: string;
  kind: OptionKind;
  default: string | number | boolean | string[];
  help: string;
  choices?: readonly string[];
}

export const SERVER_OPTIONS = {
  port: { flag: "port", env: "NIMBUS_PORT", kind: "number", default: 8080, help: "TCP port to listen on (0 picks a free one)" },
  host: { flag: "host", env: "NIMBUS_HOST", kind: "string", default: "127.0.0.1", help: "address to bind; non-loopback needs --allow-network" },
  dataDir: { flag: "data-dir", env: "NIMBUS_DATA_DIR", kind: "string", default: "./data", help: "where the database, images and sandboxes live" },
  allowNetwork: { flag: "allow-network", env: "NIMBUS_ALLOW_NETWORK", kind: "boolean", default: false, help: "permit binding a non-loopback address" },
  logLevel: {
    flag: "log-level",
    env: "NIMBUS_LOG_LEVEL",
    kind: "string",
    default: "info",
    help: "debug | info | warn | error",
    choices: ["debug", "info", "warn", "error"],
  },
  logFormat: { flag: "log-format", env: "NIMBUS_LOG_FORMAT", kind: "string", default: "json", help: "json | pretty", choices: ["json", "pretty"] },
  runtime: {
    flag: "runtime",
    env: "NIMBUS_RUNTIME",
    kind: "string",
    default: "crun",
    help: "OCI runtime for sandboxes: crun | runc | runsc",
    choices: ["crun", "runc", "runsc"],
  },
  tenantMaxSandboxes: {
    flag: "tenant-max-sandboxes",
    env: "NIMBUS_TENANT_MAX_SANDBOXES",
    kind: "number",
    default: 64,
    help: "active sandboxes per tenant before create answers 429",
  },
  tenantMemoryLimitBytes: {
    flag: "tenant-memory-limit-bytes",
    env: "NIMBUS_TENANT_MEMORY_LIMIT_BYTES",
    kind: "number",
    default: 0,
    help: "memory of all a tenant's sandboxes together (kernel-enforced); 0 = 75% of the host's RAM",
  },
  tenantCpuCount: {
    flag: "tenant-cpu-count",
    env: "NIMBUS_TENANT_CPU_COUNT",
    kind: "number",
    default: 0,
    help: "CPU cores for all a tenant's sandboxes together; 0 = every core",
  },
  tenantPidsLimit: {
    flag: "tenant-pids-limit",
    env: "NIMBUS_TENANT_PIDS_LIMIT",
    kind: "number",
    default: 0,
    help: "processes of all a tenant's sandboxes together; 0 = a quarter of kernel.pid_max",
  },
  tenantMaxSessions: {
    flag: "tenant-max-sessions",
    env: "NIMBUS_TENANT_MAX_SESSIONS",
    kind: "number",
    default: 256,
    help: "open sessions per tenant before opening one answers 429",
  },
  tenantMaxWebSockets: {
    flag: "tenant-max-websockets",
    env: "NIMBUS_TENANT_MAX_WEBSOCKETS",
    kind: "number",
    default: 128,
    help: "open WebSocket connections per tenant before an upgrade answers 429",
  },
  tenantMaxExecs: {
    flag: "tenant-max-execs",
    env: "NIMBUS_TENANT_MAX_EXECS",
    kind: "number",
    default: 32,
    help: "exec processes running at once per tenant before exec answers 429",
  },
  tenantMaxPulls: {
    flag: "tenant-max-pulls",
    env: "NIMBUS_TENANT_MAX_PULLS",
    kind: "number",
    default: 4,
    help: "distinct images being pulled at once for a tenant's sandboxes before a create needing another answers 429",
  },
  diskFreeMinBytes: {
    flag: "disk-free-min-bytes",
    env: "NIMBUS_DISK_FREE_MIN_BYTES",
    kind: "number",
    default: 1024 * 1024 * 1024,
    help: "free space kept on the data dir's filesystem: below it, sandbox creates and image pulls answer 507 (0 turns this off)",
  },
  diskLimits: {
    flag: "disk-limits",
    env: "NIMBUS_DISK_LIMITS",
    kind: "string",
    default: "auto",
    help: "auto: a sandbox with diskLimitBytes gets a loop-mounted ext4 layer of that size (when the host has loop devices); off: specs with diskLimitBytes answer 400",
    choices: ["auto", "off"],
  },
  registryMirrors: {
    flag: "registry-mirror",
    env: "NIMBUS_REGISTRY_MIRRORS",
    kind: "list",
    default: [],
    help: "REGISTRY=URL, tried before the registry itself (repeatable; env comma-separated)",
  },
  filesMaxBytes: {
    flag: "files-max-bytes",
    env: "NIMBUS_FILES_MAX_BYTES",
    kind: "number",
    default: 1073741824,
    help: "largest file the files channel downloads (apparent size) or uploads; larger answers 413",
  },
  processRetentionMs: {
    flag: "process-retention-ms",
    env: "NIMBUS_PROCESS_RETENTION_MS",
    kind: "number",
    default: 600000,
    help: "how long ended processes (started with POST …/processes) stay listed with their exit codes and output, before they are pruned",
  },
  filesPoolPerTenant: {
    flag: "files-pool-per-tenant",
    env: "NIMBUS_FILES_POOL_PER_TENANT",
    kind: "number",
    default: 2,
    help: "thread-pool work items one tenant's file transfers may run at once (the pool has UV_THREADPOOL_SIZE threads, 4 by default)",
  },
  egressDnsUpstream: {
    flag: "egress-dns-upstream",
    env: "NIMBUS_EGRESS_DNS_UPSTREAM",
    kind: "list",
    default: [],
    help: "resolvers (addr or addr:port) the egress DNS asks for names sandboxes' rules allow; default the host's (repeatable; env comma-separated)",
  },
  egressUpstreamCa: {
    flag: "egress-upstream-ca",
    env: "NIMBUS_EGRESS_UPSTREAM_CA",
    kind: "list",
    default: [],
    help: "PEM files of extra CAs that upstreams of inspected HTTPS may chain to, besides the host's trust store (repeatable; env comma-separated)",
  },
  egressInspectCiphers: {
    flag: "egress-inspect-ciphers",
    env: "NIMBUS_EGRESS_INSPECT_CIPHERS",
    kind: "string",
    default: "",
    help: "OpenSSL cipher string for the sandbox-facing TLS of inspected HTTPS (e.g. DEFAULT:@SECLEVEL=0 for clients that sign with SHA-1); default Node's",
  },
  insecureRegistries: {
    flag: "insecure-registry",
    env: "NIMBUS_INSECURE_REGISTRIES",
    kind: "list",
    default: [],
    help: "host:port reached over plain HTTP (repeatable; env comma-separated)",
  },
  registryAllow: {
    flag: "registry-allow",
    env: "NIMBUS_REGISTRY_ALLOW",
    kind: "list",
    default: [],
    help: "host[:port] of a registry that may be dialled even at a loopback or private address (repeatable; env comma-separated)",
  },
  registryAllowPrivate: {
    flag: "registry-allow-private",
    env: "NIMBUS_REGISTRY_ALLOW_PRIVATE",
    kind: "boolean",
    default: false,
    help: "let image references and token realms reach loopback, link-local and private addresses (never cloud metadata)",
  },
  registryTimeoutMs: {
    flag: "registry-timeout-ms",
    env: "NIMBUS_REGISTRY_TIMEOUT_MS",
    kind: "number",
    default: 30000,
    help: "time a registry has to answer, and between body chunks, in ms",
  },
  imageMaxLayerBytes: {
    flag: "image-max-layer-bytes",
    env: "NIMBUS_IMAGE_MAX_LAYER_BYTES",
    kind: "number",
    default: 8 * 1024 ** 3,
    help: "largest uncompressed layer a pull or load unpacks, in bytes (apparent sizes count)",
  },
  imageMaxBytes: {
    flag: "image-max-bytes",
    env: "NIMBUS_IMAGE_MAX_BYTES",
    kind: "number",
    default: 8 * 1024 ** 3,
    help: "largest uncompressed image (its layers together) a pull or load unpacks, in bytes",
  },
  imageMaxLayerEntries: {
    flag: "image-max-layer-entries",
    env: "NIMBUS_IMAGE_MAX_LAYER_ENTRIES",
    kind: "number",
    default: 1_000_000,
    help: "most tar entries in one layer (or one loaded archive)",
  },
  imageMaxCompressionRatio: {
    flag: "image-max-compression-ratio",
    env: "NIMBUS_IMAGE_MAX_COMPRESSION_RATIO",
    kind: "number",
    default: 200,
    help: "most times its compressed size a layer may expand once past 128 MiB (archive bombs); 0 turns the check off",
  },
  imageMaxArchiveBytes: {
    flag: "image-max-archive-bytes",
    env: "NIMBUS_IMAGE_MAX_ARCHIVE_BYTES",
    kind: "number",
    default: 16 * 1024 ** 3,
    help: "largest uncompressed archive `image load` expands, in bytes",
  },
} as const satisfies Record<string, OptionSpec>;

export type LogLevelName = "debug" | "info" | "warn" | "error";

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  allowNetwork: boolean;
  logLevel: LogLevelName;
  logFormat: "json" | "pretty";
  runtime: "crun" | "runc" | "runsc";
  tenantMaxSandboxes: number;
  /** The files channel's transfer limit, each way (apparent size for downloads). */
  filesMaxBytes: number;
  /** Concurrent thread-pool work items per tenant for file transfers. */
  filesPoolPerTenant: number;
  /** How long ended processes stay listed (and their logs kept) before they are pruned. */
  processRetentionMs: number;
  /** Below this many free bytes under the data dir, creates and pulls answer 507; 0 = off. */
  diskFreeMinBytes: number;
  /** `auto`: enforce diskLimitBytes with a per-sandbox loop-mounted image when the host can; `off`: refuse it. */
  diskLimits: "auto" | "off";
  /** Server-wide tenant limit defaults (0 for memory, cpu and pids: derive from the host). */
  tenantLimitDefaults: TenantLimits;
  /** registry host → mirror base URLs, in the order given. */
  registryMirrors: Record<string, string[]>;
  insecureRegistries: string[];
  registryAllow: string[];
  registryAllowPrivate: boolean;
  registryTimeoutMs: number;
  /** Limits on expanded image content (bombs). */
  imageLimits: { layerBytes: number; imageBytes: number; layerEntries: number; archiveBytes: number; compressionRatio: number };
  /** Upstream resolvers of the egress DNS (empty: the host's). */
  egressDnsUpstream?: string[];
  /** PEM files of extra CAs for inspected upstreams. */
  egressUpstreamCa?: string[];
  egressInspectCiphers?: string;
}

export class ConfigError extends Error {}

type Raw = Record<string, string | boolean | string[] | undefined>;

function fromEnv(spec: OptionSpec, env: NodeJS.ProcessEnv): string | boolean | string[] | undefined {
  const v = env[spec.env];
  if (v === undefined || v === "") return undefined;
  if (spec.kind === "boolean") return ["1", "true", "yes", "on"].includes(v.toLowerCase());
  if (spec.kind === "list")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  return v;
}

function parseMirrors(entries: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const registry = entry.slice(0, eq).trim();
    const url = entry.slice(eq + 1).trim();
    if (eq <= 0 || !/^https?:\/\/[^\s/]+/.test(url)) {
      throw new ConfigError(`--registry-mirror expects REGISTRY=URL (e.g. docker.io=http://127.0.0.1:5000), got \`${entry}\``);
    }
    (out[registry] ??= []).push(url.replace(/\/+$/, ""));
  }
  return out;
}

function positiveInt(flag: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${flag} must be a positive integer, got \`${String(v)}\``);
  return n;
}

function ratioOrOff(flag: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n > 0 && n < 2)) throw new ConfigError(`--${flag} must be 0 (off) or a number >= 2, got \`${String(v)}\``);
  return n;
}

function nonNegativeInt(flag: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`--${flag} must be an integer >= 0 (0 derives it from the host), got \`${String(v)}\``);
  return n;
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** Merge parsed flags over env over defaults and validate the result. */
export function resolveServerConfig(flags: Raw, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const pick = (key: keyof typeof SERVER_OPTIONS) => {
    const spec: OptionSpec = SERVER_OPTIONS[key];
    const v = flags[key] ?? fromEnv(spec, env) ?? spec.default;
    if (spec.choices && typeof v === "string" && !spec.choices.includes(v)) {
      throw new ConfigError(`--${spec.flag} must be one of ${spec.choices.join(", ")}, got \`${v}\``);
    }
    return v;
  };
  /** The option's value as `check` accepts it; a refusal names the option by its flag. */
  const checked = (key: keyof typeof SERVER_OPTIONS, check: (flag: string, v: unknown) => number) => check(SERVER_OPTIONS[key].flag, pick(key));
  const portRaw = String(pick("port"));
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port > 65535) throw new ConfigError(`--port must be an integer 0-65535, got \`${portRaw}\``);
  const host = String(pick("host"));
  const allowNetwork = pick("allowNetwork") === true;
  if (!isLoopbackHost(host) && !allowNetwork) {
    throw new ConfigError(
      `refusing to listen on non-loopback address ${host}: sandboxes and the admin API would be reachable from the network; pass --allow-network (or NIMBUS_ALLOW_NETWORK=1) if that is intended`,
    );
  }
  return {
    port,
    host,
    dataDir: resolve(String(pick("dataDir"))),
    allowNetwork,
    logLevel: pick("logLevel") as LogLevelName,
    logFormat: pick("logFormat") as "json" | "pretty",
    runtime: pick("runtime") as ServerConfig["runtime"],
    tenantMaxSandboxes: checked("tenantMaxSandboxes", positiveInt),
    filesMaxBytes: checked("filesMaxBytes", positiveInt),
    filesPoolPerTenant: checked("filesPoolPerTenant", positiveInt),
    processRetentionMs: checked("processRetentionMs", positiveInt),
    diskFreeMinBytes: checked("diskFreeMinBytes", nonNegativeInt),
    diskLimits: pick("diskLimits") as "auto" | "off",
    tenantLimitDefaults: {
      memoryLimitBytes: checked("tenantMemoryLimitBytes", nonNegativeInt),
      cpuCount: checked("tenantCpuCount", nonNegativeInt),
      pidsLimit: checked("tenantPidsLimit", nonNegativeInt),
      maxSandboxes: checked("tenantMaxSandboxes", positiveInt),
      maxSessions: checked("tenantMaxSessions", positiveInt),
      maxWebSockets: checked("tenantMaxWebSockets", positiveInt),
      maxExecs: checked("tenantMaxExecs", positiveInt),
      maxPulls: checked("tenantMaxPulls", positiveInt),
    },
    registryMirrors: parseMirrors(pick("registryMirrors") as string[]),
    insecureRegistries: pick("insecureRegistries") as string[],
    registryAllow: pick("registryAllow") as string[],
    registryAllowPrivate: pick("registryAllowPrivate") === true,
    registryTimeoutMs: checked("registryTimeoutMs", positiveInt),
    imageLimits: {
      layerBytes: checked("imageMaxLayerBytes", positiveInt),
      imageBytes: checked("imageMaxBytes", positiveInt),
      layerEntries: checked("imageMaxLayerEntries", positiveInt),
      archiveBytes: checked("imageMaxArchiveBytes", positiveInt),
      compressionRatio: checked("imageMaxCompressionRatio", ratioOrOff),
    },
    egressDnsUpstream: pick("egressDnsUpstream") as string[],
    egressUpstreamCa: (pick("egressUpstreamCa") as string[]).map((p) => resolve(p)),
    egressInspectCiphers: String(pick("egressInspectCiphers")) || undefined,
  };
}
