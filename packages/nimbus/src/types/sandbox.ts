/**
 * Wire types of sandboxes (contract §4): the create input, the resource the
 * server returns, lifecycle enums, logs and exec frames.
 */
/** Generated from the server's schemas: see ../wire.ts. */
export type {
  SandboxProfile,
  LifecycleState,
  Readiness,
  Health,
  SandboxReason,
  RedactedProcess,
  Sandbox,
  SandboxStatus,
  EgressLogEntry,
  EgressRule,
} from "../wire.js";
/** Also used by the spec types below. */
import type { SandboxOwner, SandboxRoot, ResourceSpec, NetworkSpec, PortSpec, LifetimeSpec } from "../wire.js";
export type { SandboxOwner, SandboxRoot, ResourceSpec, NetworkSpec, PortSpec, LifetimeSpec };
import type { Timestamp } from "./common.js";

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
  /**
   * (ext) An `eof` on the stdio channel closes the process's stdin, as `nimbus
   * run` does when its piped input ends; without it stdin stays open across
   * sessions and server restarts. The price: a slow stdio reader is cut off
   * (`slow_reader`) instead of holding the process back. Pipes only, not with
   * `terminal`.
   * @default false
   */
  closableStdin?: boolean;
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
