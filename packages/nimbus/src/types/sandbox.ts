/**
 * Wire types of sandboxes (contract §4): the create input, the resource the
 * server returns, lifecycle enums, logs and exec frames.
 */
/** Generated from the server's schemas: see ../wire.ts. */
import type {
  SandboxProfile,
  LifecycleState,
  Readiness,
  Health,
  SandboxReason,
  SandboxOwner,
  RedactedProcess,
  Sandbox,
  SandboxStatus,
  EgressLogEntry,
} from "../wire.js";
export type { SandboxProfile, LifecycleState, Readiness, Health, SandboxReason, SandboxOwner, RedactedProcess, Sandbox, SandboxStatus, EgressLogEntry };
import type { Timestamp } from "./common.js";

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
