// runtime/backend.ts — the small interface every sandbox runtime backend implements.
// The domain talks only to this; `container/` (crun/runc/runsc + conmon) and
// `fake/` (in-memory, for unit tests) implement it. Imports nothing outside runtime/.
// Facets: `stdio` (main-process IO), `ports` (reaching a container's ports),
// `egress` (the data path), plus groups (updateGroup/removeGroup) and processUser.

import type { Duplex } from "node:stream";

export type RuntimeName = "crun" | "runc" | "runsc";

/** The smallest diskLimitBytes a backend enforces: below it the filesystem's own metadata is a large share. */
export const MIN_DISK_LIMIT_BYTES = 16 * 1024 * 1024;

export interface ContainerSpec {
  /** Path-safe [a-z0-9-], <= 100 chars; also the runtime's container id. */
  id: string;
  /** Image layer dirs, bottom first; read-only and shared by many containers. */
  rootfs: { lowerDirs: string[] };
  process: {
    args: string[];
    env: string[];
    cwd: string;
    user: { uid: number; gid: number; additionalGids?: number[] };
    terminal: boolean;
  };
  /**
   * The main process's stdin can be closed (ProcessStdio.endInput), and only
   * that closes it: not a session detaching, not a server restart. The price:
   * its output cannot be held back for a slow reader (it is cut off instead).
   * Pipes only (a terminal's EOF is Ctrl-D in the stream).
   */
  closableStdin?: true;
  hostname: string;
  /**
   * `diskLimitBytes`: the writable layer gets a filesystem of this size (ENOSPC
   * past it); absent, the layer is a directory on the data dir's filesystem.
   */
  resources: { memoryLimitBytes: number; pidsLimit: number; cpuCount: number; diskLimitBytes?: number };
  /**
   * The group the container is placed in, whose ceilings bound all its members
   * together (the domain uses one group per tenant). Made with `limits` when new.
   */
  group?: { name: string; limits: GroupLimits };
  annotations?: Record<string, string>;
  /**
   * `egress: true`: the container gets a link into the server's egress network
   * (between create and start) and a resolv.conf naming the egress DNS; without
   * it the container has loopback only and nothing egress-related is done.
   */
  network?: { egress: true };
  /**
   * Run the backend's init (catatonit) as PID 1 in front of `process.args`: it
   * forwards signals to the process and reaps zombies (`docker run --init`).
   */
  init?: true;
  /** Extra read-only files bound into the container (e.g. the egress CA bundle). */
  readonlyFiles?: Array<{ source: string; destination: string }>;
}

/** Aggregate ceilings of a group of containers, enforced by the host kernel. */
export interface GroupLimits {
  memoryLimitBytes: number;
  cpuCount: number;
  pidsLimit: number;
}

export type ContainerStatus = "created" | "running" | "stopped";

export interface ExitInfo {
  /** The main process's exit code; 128+N when it died from signal N (as conmon records it). */
  exitCode: number;
  /** Set when exitCode is 129..192, e.g. "SIGKILL". */
  signal?: string;
  /** The memory cgroup OOM-killed a process and the main process died from SIGKILL. */
  oomKilled: boolean;
  /** ISO 8601 time the exit was recorded. */
  finishedAt: string;
}

export interface ContainerState {
  id: string;
  status: ContainerStatus;
  pid?: number;
  exit?: ExitInfo;
  annotations: Record<string, string>;
}

/** A new process inside a running container (the exec channel). */
export interface ExecSpec {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number };
}

export interface ExecHandle {
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** The process's exit code (127 when it could not be started). */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

/** What a backend may say about itself; the server passes its structured logger. */
export interface RuntimeLog {
  warn(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

export type StdPipe = "stdout" | "stderr";

/** Someone reading a main process's output live. */
export interface OutputSubscriber {
  /** A live chunk; `offset` is the logical offset of data[0] in the combined stdout+stderr stream. */
  output(pipe: StdPipe, data: Buffer, offset: number): void;
  /** Output was lost before the backend could read it: the live stream has a hole. */
  lost?(): void;
  /** The disk holding the output became full: what the process writes from `offset` on may never be recorded. */
  unrecorded?(offset: number): void;
  /** What this subscriber passes to `hold`/`release`, if not itself. */
  holder?: object;
}

/** Output bytes by logical offset, or a `gap` for bytes no longer kept. */
export type ReplayItem = { pipe: StdPipe; offset: number; data: Buffer } | { gap: { from: number; to: number } };

/**
 * The main process's stdio of one running container. Output is addressed by
 * logical byte offset since the process started (or since the server joined
 * a running one); `head` is the offset after the last byte handed on.
 */
export interface ProcessStdio {
  readonly head: number;
  readonly isEnded: boolean;
  /** Resolves once the output is all handed on after the process stopped, or the stdio was released. */
  readonly ended: Promise<void>;
  subscribe(s: OutputSubscriber): () => void;
  /** Offset of the oldest byte still kept. */
  oldestOffset(): Promise<number>;
  /** The kept bytes of [from, to), in order, with gaps named. */
  replay(from: number, to: number): AsyncGenerator<ReplayItem>;
  /** Bytes for the process's stdin, in arrival order. */
  write(data: Buffer): Promise<void>;
  /**
   * End of input: closes the process's stdin once what was written before is
   * in. false when this stdio keeps stdin open for good (a main process created
   * without `closableStdin`); later writes then fail.
   */
  endInput(): Promise<boolean>;
  /** Stop reading output (the process then blocks on it, as with a pipe) until every holder released. */
  hold(who: object): void;
  release(who: object): void;
  /** Terminal size, for a process with a terminal. */
  resize(rows: number, cols: number): void;
}

/** The stdio facet: each container's main-process stdio. */
export interface StdioFacet {
  /** The stdio of a running container, joining its output if this backend instance did not start it. */
  acquire(id: string): Promise<ProcessStdio>;
  /** The container stopped: free its stdio once its last output is handed on (or after graceMs). */
  retire(id: string, graceMs?: number): void;
  close(): void;
}

/** A process started on demand in a running container (the processes facet). */
export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number };
  /** A terminal of this size; stdout and stderr are then one stream. */
  terminal?: { rows: number; cols: number };
  /** Keep a stdin the caller can write to and close; without it stdin is /dev/null. */
  stdin: boolean;
}

/** What the backend knows of one started process. */
export interface ProcessState {
  /** Host pid of the process, while known. */
  pid?: number;
  running: boolean;
  /** Set once it ended (exitCode 128+N for signal N, as conmon records it). */
  exit?: { exitCode: number; signal?: string; finishedAt: string };
}

/**
 * Processes started on demand inside a running container, each supervised
 * outside the server (so it outlives a server restart) with its output kept
 * for replay. `key` is the caller's name for the process, path-safe [a-z0-9-].
 */
export interface ProcessesFacet {
  /** Starts the process; resolves once it runs (rejects with the runtime's message when it could not start). */
  start(containerId: string, key: string, spec: ProcessSpec): Promise<{ pid: number }>;
  state(containerId: string, key: string): Promise<ProcessState | undefined>;
  /** Resolves once the process ended (also one that ended while nobody watched). */
  wait(containerId: string, key: string, signal?: AbortSignal): Promise<NonNullable<ProcessState["exit"]>>;
  /** Signals the process's whole process group. */
  signal(containerId: string, key: string, signal: NodeJS.Signals): Promise<void>;
  /** Its output (replay by offset, then live), its stdin and its terminal size. */
  stdio(containerId: string, key: string): Promise<ProcessStdio>;
  /** Closes its stdin for good (the process reads end-of-file). */
  closeStdin(containerId: string, key: string): Promise<void>;
  /** Removes an ended process's traces (log, files). Idempotent. */
  remove(containerId: string, key: string): Promise<void>;
}

/** One connection a sandbox opened, as the egress proxy saw it. The same object goes to decide() and finished(). */
export interface EgressConnection {
  /** The sandbox's address on the egress bridge (the connection's source). */
  client: string;
  address: string;
  port: number;
  sni?: string;
  host?: string;
  /** What the first bytes were. */
  protocol: "tls" | "http" | "tcp";
}

/** One HTTP request inside an inspected TLS connection. */
export interface EgressHttpRequest {
  method: string;
  path: string;
  host: string;
}

/**
 * An allowed TLS connection the proxy must look inside: it terminates TLS with
 * a leaf of the server's egress CA, asks about each request, and lets the
 * domain rewrite its headers (where secrets go in).
 */
export interface EgressInspection {
  /** undefined to allow, else the reason for a 403. */
  allowRequest(req: EgressHttpRequest): string | undefined;
  rewriteHeaders?(headers: Array<[string, string]>, req: EgressHttpRequest): Array<[string, string]>;
  onRequest?(req: EgressHttpRequest, outcome: { status: number; allowed: boolean; reason?: string; bytesUp: number; bytesDown: number }): void;
}

/** What the egress data path asks the domain (the policy lives there, not in the runtime). */
export interface EgressPolicyHooks {
  /** false: close; true: splice untouched; an inspection: terminate TLS and check each request. */
  decide(c: EgressConnection): boolean | EgressInspection | Promise<boolean | EgressInspection>;
  /** An allowed connection closed. */
  finished?(c: EgressConnection, traffic: { bytesUp: number; bytesDown: number; durationMs: number }): void;
  /** The DNS responder: may `client` resolve `name`? */
  allowsName(client: string, name: string): boolean;
  resolved(client: string, name: string, addresses: string[], ttlSec: number): void;
}

/** The egress facet: the data path (bridge, nftables, proxy, DNS) for containers created with `network.egress`. */
export interface EgressFacet {
  /** Binds the policy; until then every connection and name is refused. */
  bind(hooks: EgressPolicyHooks): void;
  /** The container's address on the egress bridge, once created with `network.egress`; undefined otherwise. */
  addressOf(id: string): string | undefined;
  /** The container's rules changed: its open connections are decided again, and those now refused are closed. Returns how many. */
  recheck(id: string): Promise<number>;
  /**
   * After a server restart: brings the data path back when `ids` (running
   * containers that had egress) is not empty, re-adopting their links.
   */
  resume(ids: string[]): Promise<void>;
  /**
   * The server stops. Without containers that have links, everything is
   * removed; with some, only the proxy and DNS stop (their connections are
   * refused until `resume`), so the links and the table stay as they are.
   */
  close(): Promise<void>;
}

/** One port of a running container, reachable from the server until closed. */
export interface PortForward {
  /** The port inside the container. */
  readonly port: number;
  /** The host TCP port of an unauthenticated loopback listener, only when published with `host: true`. */
  readonly hostPort: number | undefined;
  /** A new connection to the container's port (what the authenticated proxy and HTTP probes use). */
  connect(): Duplex;
  /** Stops forwarding; open connections are ended. Idempotent. */
  close(): Promise<void>;
}

/** The ports facet: reaching a running container's ports from the server (the domain's endpoints). */
export interface PortsFacet {
  /** The address host listeners (`host: true`) bind. */
  readonly host: string;
  /** Make TCP `port` of running container `id` reachable; `host: true` also opens a listener on `host`. */
  publish(id: string, port: number, options?: { host?: boolean }): Promise<PortForward>;
  /** Whether something inside running container `id` listens on TCP `port` (a readiness check); false when not running. */
  isListening(id: string, port: number): Promise<boolean>;
  /** Removes forwarders an earlier server process left behind; returns how many it killed. */
  sweep(): number;
}

export interface RuntimeBackend {
  /** "crun" | "runc" | "runsc" | "fake" */
  readonly name: string;
  /** Bundle + overlay mount + monitor-supervised create; the process is not yet running. */
  create(spec: ContainerSpec): Promise<void>;
  start(id: string): Promise<void>;
  /** undefined when this backend owns no container with that id. */
  state(id: string): Promise<ContainerState | undefined>;
  signal(id: string, signal: NodeJS.Signals): Promise<void>;
  /** Resolves once the process has exited, also for one that exited while nobody watched. */
  wait(id: string, signal?: AbortSignal): Promise<ExitInfo>;
  /** Kill if needed, then remove every trace on the host. Idempotent. */
  delete(id: string): Promise<void>;
  /** Everything this backend owns on the host, for the boot reconciler. */
  list(): Promise<ContainerState[]>;
  /** The monitor's log of the main process stdout/stderr. */
  logPath(id: string): string;
  /** Run another process in a running container. */
  exec(id: string, spec: ExecSpec): ExecHandle;
  /** Where the container's root filesystem is mounted on the host (the files channel confines paths to it). */
  rootfsPath(id: string): string;
  /** The main processes' stdio (the IO facet). */
  readonly stdio: StdioFacet;
  /** Reaching containers' ports (the ports facet). */
  readonly ports: PortsFacet;
  /** Stops watching and reading (containers keep running) and frees what only served the running server. */
  close(): Promise<void>;
  /** The uid/gid of the main process (the owner of files the host creates for it); undefined when no such container. */
  processUser(id: string): Promise<{ uid: number; gid: number } | undefined>;
  /** The main process's environment (`KEY=VALUE`, the image's and the spec's), which execs inherit as `docker exec` does; undefined when no such container. */
  processEnv(id: string): Promise<string[] | undefined>;
  /** New ceilings for a group; applied now if it has members, else at its next create. */
  updateGroup(name: string, limits: GroupLimits): Promise<void>;
  /** Removes the group once it has no members (its last member's delete also does). Idempotent. */
  removeGroup(name: string): Promise<void>;
  /** Whether `resources.diskLimitBytes` is enforced here; `reason` says why not (the domain refuses such specs then). */
  readonly diskLimits: { enforced: true } | { enforced: false; reason: string };
  /** Egress for containers that ask for it; absent on a backend without a data path. */
  readonly egress?: EgressFacet;
  /** Processes started on demand in running containers. */
  readonly processes: ProcessesFacet;
}
