/**
 * Wire types of sandboxes (contract §4): the create input, the resource the
 * server returns, lifecycle enums, logs and exec frames.
 */
import type { Condition, Endpoint, Labels, Redacted, ResourceMetadata, Timestamp } from "./common.js";

/**
 * The sandbox profile.
 *
 * @example
 * const profile: SandboxProfile = "worker";
 */
export type SandboxProfile = "worker" | "desktop";

/**
 * Lifecycle of a sandbox: `pending` → `starting` → `ready` → `stopping` →
 * `stopped`; any state may become `failed`.
 *
 * @example
 * const done = (s: LifecycleState) => s === "stopped" || s === "failed";
 */
export type LifecycleState = "pending" | "starting" | "ready" | "stopping" | "stopped" | "failed";

/**
 * Readiness reported beside the lifecycle state.
 *
 * @example
 * if (sandbox.status.readiness === "ready") attach();
 */
export type Readiness = "not_ready" | "ready" | "stopped" | "failed";

/**
 * Health reported beside the lifecycle state.
 *
 * @example
 * if (view.health === "unhealthy") alert();
 */
export type Health = "unknown" | "healthy" | "unhealthy";

/**
 * Why a sandbox ended (ext).
 *
 * @example
 * if (sandbox.status.reason === "oom_killed") raiseMemory();
 */
export type SandboxReason = "pull_failed" | "start_failed" | "oom_killed" | "exited" | "stopped" | "lost" | "expired";

/**
 * Who owns a sandbox. Standalone sandboxes are created directly; service
 * sandboxes are created by the service supervisor.
 *
 * @example
 * const owner: SandboxOwner = { kind: "standalone", displayName: "agent-task" };
 */
export type SandboxOwner = { kind: "standalone"; displayName?: string } | { kind: "service"; serviceName?: string };

/**
 * The root filesystem of a sandbox: an OCI image by reference.
 *
 * @example
 * const root: SandboxRoot = { kind: "oci_image",
 *   source: { kind: "reference", reference: "docker.io/library/node:22-alpine" } };
 */
export interface SandboxRoot {
  kind: "oci_image";
  source: { kind: "reference"; reference: string };
}

/**
 * The main process. Resolution follows OCI/Docker rules: `argv` (alias
 * `args`) replaces ENTRYPOINT+CMD; otherwise `entrypoint`/`command` override
 * the image's parts.
 *
 * @example
 * const process: ProcessSpec = { argv: ["node", "-e", "1"], env: ["K=V"] };
 */
export interface ProcessSpec {
  argv?: string[];
  args?: string[];
  entrypoint?: string[];
  command?: string[];
  /** `KEY=VALUE` entries merged over the image's Env. */
  env?: string[];
  /** @default the image's WorkingDir */
  cwd?: string;
  /** @default the image's User */
  user?: string;
  /** @default false */
  terminal?: boolean;
  /**
   * Run a real init (catatonit) as PID 1 that forwards signals to the process
   * and reaps zombies, as `docker run --init` does.
   * @default false
   */
  init?: boolean;
}

/**
 * Resource limits (ext), clamped by the server to the tenant's quota.
 *
 * @example
 * const resources: ResourceSpec = { cpuCount: 1, memoryLimitBytes: 256 * 2 ** 20 };
 */
export interface ResourceSpec {
  /** @default 1 */
  cpuCount?: number;
  /** @default 536870912 (512 MiB) */
  memoryLimitBytes?: number;
  pidsLimit?: number;
  /** @default 10737418240 (10 GiB) */
  diskLimitBytes?: number;
}

/**
 * One egress allow rule (ext). `host` is an exact name, `*.suffix` (one or
 * more labels, never the bare suffix), or a literal IP/CIDR where the tenant's
 * ceiling allows addresses. `port` defaults to 443 for https and 80 for http
 * and is required for tcp.
 */
export interface EgressRule {
  host: string;
  port?: number;
  protocol: "tcp" | "http" | "https";
  methods?: string[];
  pathPrefixes?: string[];
}

/**
 * Egress allow-list (ext). Egress is denied by default: without rules a
 * sandbox has loopback only.
 *
 * @example
 * const network: NetworkSpec = { egress: [{ host: "registry.npmjs.org", protocol: "https" }], secrets: ["NPM_TOKEN"] };
 */
export interface NetworkSpec {
  egress?: EgressRule[];
  /** Tenant secrets the sandbox may use: it sees only `NIMBUS_SECRET_<NAME>=nimbus-secret://<NAME>`. */
  secrets?: string[];
}

/** One row of a sandbox's egress decision log (ext). */
export interface EgressLogEntry {
  seq: number;
  at: string;
  kind: "connect" | "dns";
  name: string | null;
  address: string | null;
  port: number | null;
  protocol: string;
  decision: "allowed" | "denied";
  /** The index of the deciding rule in spec.network.egress, or `always_refused:<class>`. */
  rule: string | null;
  reason: string | null;
  bytesUp: number | null;
  bytesDown: number | null;
  durationMs: number | null;
}

/**
 * A port the sandbox listens on (ext), reported in `status.endpoints` while
 * it is ready. By default it is reachable only through the authenticated
 * service proxy; `publish: "host"` also opens a listener on the server's
 * loopback that any local user can reach without a credential.
 *
 * @example
 * const port: PortSpec = { name: "http", port: 8080, protocol: "http" };
 */
export interface PortSpec {
  /** @default `port-<port>` */
  name?: string;
  port: number;
  /** @default "tcp" */
  protocol?: "tcp" | "http";
  /** `"host"` opens an unauthenticated listener on 127.0.0.1. @default "proxy" */
  publish?: "proxy" | "host";
}

/**
 * How long a sandbox may live (ext). `ttlSeconds` counts from create;
 * `idleTimeoutSeconds` from the last activity (an open session, stdio or exec
 * IO, service proxy traffic). When either passes the sandbox is stopped (reason
 * `expired`) or deleted. Absent fields follow the tenant's default.
 *
 * @example
 * const lifetime: LifetimeSpec = { ttlSeconds: 3600, idleTimeoutSeconds: 600, onExpire: "delete" };
 */
export interface LifetimeSpec {
  ttlSeconds?: number;
  idleTimeoutSeconds?: number;
  /** @default "stop" */
  onExpire?: "stop" | "delete";
}

/**
 * The sandbox spec sent on create (and nested in a service definition).
 *
 * @example
 * const spec: SandboxSpec = { owner: { kind: "standalone" }, backend: "container",
 *   root: { kind: "oci_image", source: { kind: "reference", reference: "alpine:3" } },
 *   process: { argv: ["sleep", "infinity"] } };
 */
export interface SandboxSpec {
  /** If given, must equal the route tenant. */
  tenantId?: string;
  owner: SandboxOwner;
  /** A backend this server runs; `"container"` for the crun backend. */
  backend: "container" | (string & {});
  root: SandboxRoot;
  process?: ProcessSpec;
  resources?: ResourceSpec;
  network?: NetworkSpec;
  ports?: PortSpec[];
  lifetime?: LifetimeSpec;
}

/**
 * The process as echoed by the server: launch inputs only as value counts.
 *
 * @example
 * console.log(sandbox.spec.sandbox.process.environment.valueCount);
 */
export interface RedactedProcess {
  argv: Redacted;
  entrypoint?: Redacted;
  command?: Redacted;
  environment: Redacted;
  cwd: string;
  user?: string;
  terminal: boolean;
  init?: boolean;
}

/**
 * A sandbox resource as returned by create, get, stop and list.
 *
 * @example
 * const s: Sandbox = await nimbus.sandboxes.get({ id });
 * console.log(s.metadata.id, s.status.lifecycleState);
 */
export interface Sandbox {
  metadata: ResourceMetadata & { labels: Labels };
  spec: {
    profile: SandboxProfile;
    sandbox: {
      tenantId: string;
      owner: SandboxOwner;
      backend: string;
      root: SandboxRoot;
      process: RedactedProcess;
      resources?: ResourceSpec;
      network?: NetworkSpec;
      lifetime?: LifetimeSpec;
    };
  };
  status: SandboxStatus;
}

/**
 * The observed state of a sandbox.
 *
 * @example
 * if (status.lifecycleState === "failed") console.log(status.reason, status.exitCode);
 */
export interface SandboxStatus {
  lifecycleState: LifecycleState;
  readiness: Readiness;
  health: Health;
  backend: string;
  endpoints: Endpoint[];
  conditions: Condition[];
  exitCode?: number;
  reason?: SandboxReason;
  phases?: { pullMs?: number; createMs?: number; startMs?: number };
  imageDigest?: string;
  /** When the TTL ends (ext); moved by `extend`. */
  expiresAt?: Timestamp;
  /** When the sandbox expires if nothing uses it before then (ext). */
  idleExpiresAt?: Timestamp;
}

/**
 * One line of followed sandbox logs (ext).
 *
 * @example
 * for await (const line of nimbus.sandboxes.logs({ id, follow: true })) process.stdout.write(line.data);
 */
export interface LogLine {
  stream: "stdout" | "stderr";
  data: string;
  time: Timestamp;
}
