// runtime/fake/fake-backend.ts — an in-memory RuntimeBackend for the domain's fast unit tests.
// Owns simulated containers: no processes, no host state. Containers live in a
// FakeHost that several backend instances can share, so tests can simulate a
// server restart (a new backend on the same host) and a process exiting while no
// server watched. Tests drive exits with `exit(id, code)` / `oomKill(id)`.

import type {
  ProcessesFacet,
  ContainerSpec,
  ContainerState,
  ContainerStatus,
  EgressPolicyHooks,
  ExecHandle,
  ExitInfo,
  GroupLimits,
  RuntimeBackend,
  StdioFacet,
} from "../backend.js";
import { RuntimeError, assertValidId } from "../errors.js";
import { FakePorts } from "./fake-ports.js";

interface FakeContainer {
  spec: ContainerSpec;
  status: ContainerStatus;
  pid?: number;
  exit?: ExitInfo;
  log: string;
  waiters: Set<() => void>;
}

/** Stands for one machine: what survives when a backend instance is dropped. */
export class FakeHost {
  readonly containers = new Map<string, FakeContainer>();
  /** Group name → the ceilings last set (by a create that made it, or updateGroup). */
  readonly groups = new Map<string, GroupLimits>();
  nextPid = 1000;
}

export interface FakeBackendOptions {
  host?: FakeHost;
  /** Make create/start fail for ids matching this, to test failure paths. */
  failStart?: (id: string) => string | undefined;
  /** Signals that end the process at once (as if it had no handler). @default SIGTERM, SIGKILL, SIGINT */
  fatalSignals?: NodeJS.Signals[];
  /** Stand for a host that cannot enforce diskLimitBytes. @default enforced (the limit is recorded in the spec) */
  diskLimitsUnsupported?: string;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

/** The fake runs no processes, so it has no stdio to attach to: every acquire says so. */
const NO_STDIO: StdioFacet = {
  acquire: (id) => Promise.reject(new RuntimeError("not_found", `the fake backend has no stdio for ${id}; use the container backend`)),
  retire: () => undefined,
  close: () => undefined,
};

/** Nor processes to start: each call says to use the container backend. */
const noProcesses = (id: string) => Promise.reject(new RuntimeError("not_found", `the fake backend runs no processes in ${id}; use the container backend`));
const NO_PROCESSES: ProcessesFacet = {
  start: (id) => noProcesses(id),
  state: async () => undefined,
  wait: (id) => noProcesses(id),
  signal: async () => undefined,
  stdio: (id) => noProcesses(id),
  closeStdin: async () => undefined,
  remove: async () => undefined,
};

export class FakeBackend implements RuntimeBackend {
  readonly name = "fake";
  readonly stdio = NO_STDIO;
  /** Ports reach what a test registered with `ports.listen` (fake-ports.ts). */
  readonly ports = new FakePorts((id) => this.state(id));
  readonly processes = NO_PROCESSES;
  /** Egress without a data path: containers asking for it get an address from 100.64.0.0/16 and nothing else. */
  readonly egress = {
    hooks: undefined as EgressPolicyHooks | undefined,
    addresses: new Map<string, string>(),
    next: 2,
    bind(hooks: EgressPolicyHooks): void {
      this.hooks = hooks;
    },
    addressOf(id: string): string | undefined {
      return this.addresses.get(id);
    },
    async resume(_ids: string[]): Promise<void> {},
    async recheck(_id: string): Promise<number> {
      return 0;
    },
    async close(): Promise<void> {},
  };
  readonly host: FakeHost;
  readonly diskLimits: RuntimeBackend["diskLimits"];
  private readonly failStart: (id: string) => string | undefined;
  private readonly fatal: Set<string>;

  constructor(options: FakeBackendOptions = {}) {
    this.host = options.host ?? new FakeHost();
    this.diskLimits = options.diskLimitsUnsupported ? { enforced: false, reason: options.diskLimitsUnsupported } : { enforced: true };
    this.failStart = options.failStart ?? (() => undefined);
    this.fatal = new Set(options.fatalSignals ?? ["SIGTERM", "SIGKILL", "SIGINT"]);
  }

  async create(spec: ContainerSpec): Promise<void> {
    assertValidId(spec.id);
    if (this.host.containers.has(spec.id)) {
      throw new RuntimeError("already_exists", `container ${spec.id} already exists: delete it first or pick another id`);
    }
    const failure = this.failStart(spec.id);
    if (failure) throw new RuntimeError("start_failed", `fake could not create container ${spec.id}: ${failure}`);
    if (spec.group && !this.host.groups.has(spec.group.name)) this.host.groups.set(spec.group.name, { ...spec.group.limits });
    this.host.containers.set(spec.id, { spec, status: "created", pid: this.host.nextPid++, log: "", waiters: new Set() });
    if (spec.network?.egress) {
      const n = this.egress.next++;
      this.egress.addresses.set(spec.id, `100.64.${n >> 8}.${n & 255}`);
    }
  }

  async start(id: string): Promise<void> {
    const c = this.get(id);
    if (c.status !== "created") throw new RuntimeError("start_failed", `container ${id} is ${c.status}, not created`);
    c.status = "running";
  }

  async state(id: string): Promise<ContainerState | undefined> {
    assertValidId(id);
    const c = this.host.containers.get(id);
    return c && snapshot(id, c);
  }

  async signal(id: string, signal: NodeJS.Signals): Promise<void> {
    const c = this.get(id);
    if (c.status === "stopped") return;
    if (this.fatal.has(signal)) this.finish(id, 128 + (SIGNAL_NUMBERS[signal] ?? 15), false);
  }

  async wait(id: string, signal?: AbortSignal): Promise<ExitInfo> {
    const c = this.get(id);
    while (!c.exit) {
      signal?.throwIfAborted();
      if (!this.host.containers.has(id)) throw new RuntimeError("not_found", `no container ${id}: it was deleted`);
      await new Promise<void>((resolve) => {
        const done = () => {
          c.waiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        c.waiters.add(done);
        signal?.addEventListener("abort", done);
      });
    }
    return { ...c.exit };
  }

  async delete(id: string): Promise<void> {
    assertValidId(id);
    const c = this.host.containers.get(id);
    if (!c) return;
    this.host.containers.delete(id);
    this.egress.addresses.delete(id);
    c.waiters.forEach((w) => w());
  }

  async list(): Promise<ContainerState[]> {
    return [...this.host.containers].map(([id, c]) => snapshot(id, c));
  }

  logPath(id: string): string {
    return `/fake/${id}/ctr.log`;
  }

  exec(id: string): ExecHandle {
    throw new RuntimeError("invalid_spec", `the fake backend cannot exec in ${id}; use the container backend`);
  }

  rootfsPath(id: string): string {
    return `/fake/${id}/rootfs`;
  }

  async close(): Promise<void> {}

  async processUser(id: string): Promise<{ uid: number; gid: number } | undefined> {
    const u = this.host.containers.get(id)?.spec.process.user;
    return u && { uid: u.uid, gid: u.gid };
  }

  async processEnv(id: string): Promise<string[] | undefined> {
    return this.host.containers.get(id)?.spec.process.env;
  }

  /** Records ceilings only: nothing in the fake enforces them. */
  async updateGroup(name: string, limits: GroupLimits): Promise<void> {
    assertValidId(name);
    this.host.groups.set(name, { ...limits });
  }

  async removeGroup(name: string): Promise<void> {
    if ([...this.host.containers.values()].every((c) => c.spec.group?.name !== name)) this.host.groups.delete(name);
  }

  // ---- test helpers ----

  /** The process exits with `code` (a created-but-unstarted one too). */
  exit(id: string, code: number): void {
    this.finish(id, code, false);
  }

  /** The process is OOM-killed (exit 137, oomKilled). */
  oomKill(id: string): void {
    this.finish(id, 137, true);
  }

  /** Appends to the simulated main-process output. */
  write(id: string, text: string): void {
    this.get(id).log += text;
  }

  output(id: string): string {
    return this.get(id).log;
  }

  spec(id: string): ContainerSpec {
    return this.get(id).spec;
  }

  private finish(id: string, exitCode: number, oomKilled: boolean): void {
    const c = this.get(id);
    if (c.status === "stopped") return;
    c.status = "stopped";
    delete c.pid;
    const signal = Object.entries(SIGNAL_NUMBERS).find(([, n]) => n + 128 === exitCode)?.[0];
    c.exit = { exitCode, oomKilled, finishedAt: new Date().toISOString(), ...(signal ? { signal } : {}) };
    c.waiters.forEach((w) => w());
  }

  private get(id: string): FakeContainer {
    assertValidId(id);
    const c = this.host.containers.get(id);
    if (!c) throw new RuntimeError("not_found", `no container ${id} on this host: it was deleted or never created`);
    return c;
  }
}

function snapshot(id: string, c: FakeContainer): ContainerState {
  const s: ContainerState = { id, status: c.status, annotations: { ...(c.spec.annotations ?? {}) } };
  if (c.pid !== undefined && c.status !== "stopped") s.pid = c.pid;
  if (c.exit) s.exit = { ...c.exit };
  return s;
}
