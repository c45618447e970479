// runtime/container/crun-backend.ts — the real backend: an OCI runtime (crun by
// default, runc or runsc selectable) supervised by conmon, on an overlayfs root.
// Ties bundle, overlay, cgroups, conmon and exit files together behind RuntimeBackend.
// All host state lives under `stateDir` (see layout.ts); nothing is kept only in
// memory, so a new instance on the same state dir (a restarted server) sees the
// same containers, and containers outlive the Node process.

import { ContainerPorts } from "./ports-facet.js";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { chmod, readFile, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ContainerSpec, ContainerState, ExecHandle, ExecSpec, ExitInfo, GroupLimits, RuntimeBackend, RuntimeLog, RuntimeName } from "../backend.js";
import { execInContainer } from "./exec-in-container.js";
import { RuntimeError, assertValidId } from "../errors.js";
import { findBinary } from "./exec.js";
import { bundleFiles, readBundleRecord } from "./bundle.js";
import { cgroupOomKilled, cgroupParentFor, removeEmptyParent } from "./cgroups.js";
import { removeContainerFiles } from "./cleanup.js";
import { ensureGroup, removeGroupDirs, updateGroupLimits } from "./group-cgroups.js";
import { launchConmon, liveConmonPid } from "./conmon.js";
import { EntryWatch } from "../entry-watch.js";
import { exitInfo, fileExists, readExitFile } from "./exit-file.js";
import { KeyedLock } from "../keyed-lock.js";
import { StateLayout } from "./layout.js";
import { OciRuntime, startThroughExecFifo, type RuntimeStateJson } from "./oci-runtime.js";
import { mountOverlay } from "./overlay.js";
import { diskLimitSupport, diskPaths, mountDiskImage } from "./disk-image.js";
import { StdioHubs, type HubInput } from "./stdio-hub.js";
import { ContainerProcesses } from "./process-facet.js";
import { CA_BUNDLE_DESTINATION, CA_BUNDLE_ENV, ContainerEgress } from "./egress-facet.js";
import { endStdinRelay, hasStdinRelay, releaseStdinKeeper, startStdinRelay, stdinRelayWriter, stopStdinRelay, type RelayTools } from "./stdin-relay.js";
import type { AttachInput } from "./attach.js";

export interface ContainerBackendOptions {
  /** Per-server state root, e.g. `<data-dir>/runtime`. Created if missing. */
  stateDir: string;
  /** @default "crun" */
  runtime?: RuntimeName;
  /** @default the runtime's name looked up on PATH and the sbin dirs */
  runtimePath?: string;
  /** @default "conmon" looked up on PATH */
  conmonPath?: string;
  /** Cap on each container's log file. @default 10 MiB */
  logSizeMaxBytes?: number;
  /** Absolute cgroup parent. @default `<server's own cgroup>/nimbus-<hash of stateDir>` */
  cgroupParent?: string;
  /** Where the stdio facet reports trouble. @default silent */
  log?: RuntimeLog;
  /** Ceilings for all groups together, written when the parent is made for a group. @default none */
  parentLimits?: GroupLimits;
  /** `off` stands for a host without loop devices: diskLimitBytes is not enforced (and the domain refuses it). @default "auto" */
  diskLimits?: "auto" | "off";
  /** Where the ports facet's unix sockets live (0700, the server's user only). @default `<stateDir>/endpoints` */
  portsSocketDir?: string;
  /** The egress data path's settings (used only once a container asks for egress). */
  egress?: { dnsUpstream?: string[]; sandboxBlock?: string; caDir?: string; upstreamCa?: string[]; inspectCiphers?: string };
}

const SILENT: RuntimeLog = { warn: () => undefined, debug: () => undefined };

/**
 * How often wait() looks again without a wake-up from the exit-dir watch: only a
 * conmon that died without writing an exit file goes unannounced. Each look is
 * four file reads, per running sandbox, on the server's event loop.
 */
const POLL_MS = 1_000;

export class ContainerBackend implements RuntimeBackend {
  readonly name: RuntimeName;
  readonly layout: StateLayout;
  readonly cgroupParent: string;
  private readonly parentLimits?: GroupLimits;
  private readonly runtime: OciRuntime;
  private readonly conmonPath: string;
  /** catatonit, found on first use (only sandboxes with `init` need it). */
  private initPath: string | undefined;
  private readonly logSizeMaxBytes: number;
  private readonly locks = new KeyedLock();
  /** Wakes wait() when conmon renames a container's exit file into the exit dir. */
  private readonly exits: EntryWatch;
  private readonly records = new Map<string, ReturnType<typeof readBundleRecord>>();
  /** Each main process's stdio, read from conmon's log (stdio-hub.ts). */
  readonly stdio: StdioHubs;
  /**
   * Groups whose last container went. They are kept: a tenant that just
   * deleted a sandbox is likely to create the next one soon, and making its
   * group again (a dir and the ceilings in each hierarchy, twice the memory
   * cgroups the kernel sets up) costs most of a create. A group goes when its
   * tenant is deleted (removeGroup) or the backend closes.
   */
  private readonly idleGroups = new Set<string>();
  /** The egress data path, started by the first container created with `network.egress`. */
  readonly egress: ContainerEgress;
  readonly diskLimits: RuntimeBackend["diskLimits"];
  /** Containers' ports, reached through a helper in their network namespace (ports-facet.ts). */
  readonly ports: ContainerPorts;
  /** Processes started on demand, each under its own conmon (process-facet.ts). */
  readonly processes: ContainerProcesses;
  /** socat and sleep, for the stdin relays of closable stdins (stdin-relay.ts). */
  private readonly relayTools: RelayTools;
  /**
   * Containers being created with a closable stdin: their hub (made while they
   * are created) must not connect to stdin before the relay exists. Once
   * created, the relay's fifo in the bundle marks them, across restarts too.
   */
  private readonly closableCreating = new Set<string>();
  /** The hubs' writers to relays, by container, so endInput closes the one there is. */
  private readonly relayWriters = new Map<string, AttachInput>();

  constructor(options: ContainerBackendOptions) {
    this.name = options.runtime ?? "crun";
    this.layout = new StateLayout(options.stateDir);
    const runtimePath = options.runtimePath ?? findBinary(this.name);
    const conmonPath = options.conmonPath ?? findBinary("conmon");
    if (!runtimePath) throw new RuntimeError("host_unsupported", `${this.name} is not installed: run \`apt-get install ${this.name}\``);
    if (!conmonPath) throw new RuntimeError("host_unsupported", "conmon is not installed: run `apt-get install conmon`");
    const extra = this.name === "runsc" ? ["--platform=ptrace"] : [];
    this.runtime = new OciRuntime(runtimePath, [`--root=${this.layout.runtimeRoot}`, ...extra]);
    this.conmonPath = conmonPath;
    this.logSizeMaxBytes = options.logSizeMaxBytes ?? 10 * 1024 * 1024;
    this.cgroupParent = options.cgroupParent ?? cgroupParentFor(this.layout.stateDir);
    this.parentLimits = options.parentLimits;
    for (const d of [this.layout.runtimeRoot, this.layout.bundlesDir, this.layout.exitsDir, this.layout.socketsDir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    this.exits = new EntryWatch(this.layout.exitsDir);
    this.diskLimits = options.diskLimits === "off" ? { enforced: false, reason: "disk limits are turned off (--disk-limits off)" } : diskLimitSupport();
    const runtimeLog = options.log ?? SILENT;
    this.egress = new ContainerEgress({
      stateDir: this.layout.stateDir,
      ...options.egress,
      liveContainerIds: async () => (await this.runtime.list()).filter((s) => s.status !== "stopped").map((s) => s.id),
      onError: (err) => runtimeLog.debug("egress connection failed", { err: err.message }),
    });
    this.ports = new ContainerPorts(options.portsSocketDir ?? join(this.layout.stateDir, "endpoints"), (id) => this.state(id));
    const layout = this.layout;
    this.relayTools = { socatPath: findBinary("socat"), sleepPath: findBinary("sleep") ?? "sleep" };
    this.stdio = new StdioHubs({
      paths: { attachSocket: (id) => layout.attachSocket(id), log: (id) => layout.log(id), ctl: (id) => layout.ctlFifo(id) },
      log: options.log ?? SILENT,
      logsDir: layout.bundlesDir,
      input: (id) => this.relayInput(id),
    });
    this.processes = new ContainerProcesses({
      layout,
      conmonPath,
      runtimePath,
      runtimeArgs: this.runtime.globalArgs,
      ...this.relayTools,
      logSizeMaxBytes: this.logSizeMaxBytes,
      log: runtimeLog,
    });
  }

  /** The stdio hub attaches while the container is created, so it reads the output from byte 0. */
  async create(spec: ContainerSpec): Promise<void> {
    if (!spec.closableStdin) return this.stdio.whileCreating(spec.id, this.createContainer(spec));
    if (spec.process.terminal) throw new RuntimeError("invalid_spec", "closableStdin is for pipes: a terminal's end of input is Ctrl-D in the stream");
    if (!this.relayTools.socatPath)
      throw new RuntimeError("host_unsupported", "a closable stdin needs socat on the server's host: run `apt-get install socat`");
    this.closableCreating.add(spec.id);
    try {
      await this.stdio.whileCreating(spec.id, this.createContainer(spec));
    } finally {
      this.closableCreating.delete(spec.id);
    }
  }

  /**
   * A closable stdin's hub writes to the relay's fifo and never holds output
   * back: the hold is an attach connection, whose end would close stdin.
   */
  private relayInput(id: string): HubInput | undefined {
    const dir = this.layout.bundle(id);
    if (!this.closableCreating.has(id) && !hasStdinRelay(dir)) return undefined;
    return {
      canHold: false,
      open: () => {
        const writer = stdinRelayWriter(dir, () => {
          if (this.relayWriters.get(id) === writer) this.relayWriters.delete(id);
        });
        this.relayWriters.set(id, writer);
        return writer;
      },
      end: () => endStdinRelay(dir, this.relayWriters.get(id)),
    };
  }

  private async createContainer(spec: ContainerSpec): Promise<void> {
    assertValidId(spec.id);
    if (spec.group) assertValidId(spec.group.name);
    if (spec.process.args.length === 0) throw new RuntimeError("invalid_spec", "process.args is empty: give the command to run");
    const initPath = spec.init ? (this.initPath ??= findBinary("catatonit")) : undefined;
    if (spec.init && !initPath) {
      throw new RuntimeError("host_unsupported", "spec.process.init needs catatonit on the server's host: run `apt-get install catatonit`, or drop init");
    }
    if (spec.network?.egress) {
      // The data path is up before the container exists; the sandbox trusts the egress CA (for inspected TLS).
      let caBundle: string;
      try {
        caBundle = await this.egress.prepare();
      } catch (err) {
        throw new RuntimeError("start_failed", `the egress network could not start: ${(err as Error).message}`, { cause: err });
      }
      spec = {
        ...spec,
        readonlyFiles: [...(spec.readonlyFiles ?? []), { source: caBundle, destination: CA_BUNDLE_DESTINATION }],
        process: {
          ...spec.process,
          env: [...spec.process.env.filter((e) => !CA_BUNDLE_ENV.some((v) => e.startsWith(v.split("=")[0]! + "="))), ...CA_BUNDLE_ENV],
        },
      };
    }
    const { id } = spec;
    await this.locks.run(id, async () => {
      const bundle = this.layout.bundle(id);
      try {
        mkdirSync(bundle, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") {
          throw new RuntimeError("already_exists", `container ${id} already exists: delete it first or pick another id`);
        }
        throw err;
      }
      const groupPath = spec.group ? this.groupPath(spec.group.name) : undefined;
      const cgroupsPath = `${groupPath ?? this.cgroupParent}/${id}`;
      this.records.set(id, {
        cgroupsPath,
        annotations: spec.annotations ?? {},
        user: { uid: spec.process.user.uid, gid: spec.process.user.gid },
        env: spec.process.env,
      });
      const counted = groupPath ? [this.cgroupParent, groupPath] : [this.cgroupParent];
      for (const p of counted) creating.set(p, (creating.get(p) ?? 0) + 1);
      try {
        if (spec.group && groupPath) {
          this.cancelIdleRemoval(groupPath);
          // A delete that found the group empty may still be removing it.
          await groupRemovals.get(groupPath);
          await ensureGroup(groupPath, spec.group.limits, this.parentLimits);
          // v1 refuses a container CPU quota above its group's (EINVAL from the runtime).
          const cpuCount = Math.min(spec.resources.cpuCount, spec.group.limits.cpuCount);
          spec = { ...spec, resources: { ...spec.resources, cpuCount } };
        }
        const conmon = launchConmon(id, this.layout, {
          conmonPath: this.conmonPath,
          runtimePath: this.runtime.path,
          runtimeArgs: this.runtime.globalArgs,
          logSizeMaxBytes: this.logSizeMaxBytes,
          terminal: spec.process.terminal,
          closableStdin: spec.closableStdin === true,
        });
        conmon.containerPid.catch(() => undefined); // observed below, or abandoned on abort
        try {
          const disk = diskPaths(bundle);
          const limitBytes = spec.resources.diskLimitBytes;
          if (limitBytes !== undefined) {
            if (!this.diskLimits.enforced) throw new Error(`diskLimitBytes cannot be enforced here: ${this.diskLimits.reason}`);
            await mountDiskImage(disk, limitBytes);
          }
          const layerDir = limitBytes === undefined ? bundle : disk.mountDir;
          // One pool thread writes config.json, mounts the root and releases conmon.
          await conmon.releaseAfter((startFd) =>
            mountOverlay(
              spec.rootfs.lowerDirs,
              { target: this.layout.rootfs(id), upperDir: `${layerDir}/upper`, workDir: `${layerDir}/work`, linkDir: `${bundle}/l` },
              {
                signalFd: startFd,
                writeFirst: bundleFiles(bundle, spec, cgroupsPath, spec.network?.egress ? { nameserver: this.egress.gateway } : undefined, initPath),
              },
            ),
          );
        } catch (err) {
          conmon.abort();
          throw err;
        }
        // config.json holds the main process's argv and env. The native helper
        // writes it 0644 inside the 0700 bundle dir; owner-only on the file too,
        // so a looser dir mode (or a copied bundle) does not expose it.
        await chmod(join(bundle, "config.json"), 0o600);
        const pid = await conmon.containerPid;
        // conmon's attach socket is up once it reported the pid; the process waits for start().
        if (spec.closableStdin) await startStdinRelay(bundle, this.layout.attachSocket(id), this.relayTools);
        // Before start: the main process never runs without its link (or with an unset one).
        if (spec.network?.egress) await this.egress.attach(id, pid);
      } catch (err) {
        await this.removeEverything(id).catch(() => undefined);
        for (const p of counted) creating.set(p, creating.get(p)! - 1);
        counted.length = 0;
        // removeEverything counted this create as in flight; a group it left empty goes now.
        if (groupPath && (creating.get(groupPath) ?? 0) === 0) await this.removeGroupWhenIdle(groupPath);
        const message = err instanceof Error ? err.message : String(err);
        throw new RuntimeError("start_failed", `${this.name} could not create container ${id}: ${message}`, { cause: err });
      } finally {
        for (const p of counted) creating.set(p, creating.get(p)! - 1);
      }
    });
  }

  async start(id: string): Promise<void> {
    assertValidId(id);
    await this.stdio.beforeStart(id);
    if (this.name === "crun" && startThroughExecFifo(this.layout.runtimeRoot, id)) return;
    const st = await this.runtime.state(id);
    if (!st) throw notFound(id);
    try {
      await this.runtime.start(id);
    } catch (err) {
      throw new RuntimeError("start_failed", `${this.name} could not start container ${id}: ${(err as Error).message}`, { cause: err });
    }
  }

  async state(id: string): Promise<ContainerState | undefined> {
    assertValidId(id);
    return this.buildState(id, await this.runtime.state(id));
  }

  async signal(id: string, signal: NodeJS.Signals): Promise<void> {
    assertValidId(id);
    // One runtime exec: a process that already ended is not an error, an unknown id is.
    const delivered = await this.runtime.kill(id, signal);
    if (!delivered && !(await fileExists(this.layout.bundle(id)))) throw notFound(id);
  }

  async wait(id: string, signal?: AbortSignal): Promise<ExitInfo> {
    assertValidId(id);
    for (let polls = 0; ; polls++) {
      const exit = await this.readExit(id);
      if (exit) {
        // A closable stdin's keeper has nothing left to keep open (socat ended with conmon's socket).
        releaseStdinKeeper(this.layout.bundle(id));
        return exit;
      }
      if (!(await fileExists(this.layout.bundle(id)))) throw notFound(id);
      if (polls > 0 && !liveConmonPid(this.layout.conmonPidFile(id))) {
        // The monitor is gone: the exit file may still be landing, or will never be written.
        await sleep(100);
        const late = await this.readExit(id);
        if (late) return late;
        // Even if the process still runs, nobody records its exit or serves its stdio now:
        // the caller marks the sandbox lost rather than report it ready unwatched.
        throw new RuntimeError("lost", `the monitor (conmon) of container ${id} died without an exit record: delete it`);
      }
      signal?.throwIfAborted();
      await this.exits.nextEvent(id, POLL_MS, signal);
    }
  }

  async delete(id: string): Promise<void> {
    assertValidId(id);
    this.stdio.dropCreated(id);
    this.ports.forget(id);
    await this.locks.run(id, () => this.removeEverything(id));
  }

  async list(): Promise<ContainerState[]> {
    const [rt, bundles] = await Promise.all([this.runtime.list(), readdirSafe(this.layout.bundlesDir)]);
    const byId = new Map<string, RuntimeStateJson | undefined>(bundles.map((id) => [id, undefined]));
    for (const s of rt) byId.set(s.id, s);
    const states = await Promise.all([...byId].map(([id, s]) => this.buildState(id, s, true)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  logPath(id: string): string {
    return this.layout.log(id);
  }

  exec(id: string, spec: ExecSpec): ExecHandle {
    assertValidId(id);
    const name = `exec-${randomBytes(6).toString("hex")}`;
    const bundle = this.layout.bundle(id);
    // An exec in a sandbox with egress trusts the egress CA like its main process does
    // (inspected TLS fails otherwise); a value the caller gives wins.
    if (this.egress.addressOf(id) !== undefined)
      spec = { ...spec, env: [...CA_BUNDLE_ENV.filter((v) => !spec.env.some((e) => e.startsWith(v.split("=")[0]! + "="))), ...spec.env] };
    return execInContainer(this.runtime.path, this.runtime.globalArgs, id, spec, {
      pidFile: join(bundle, `${name}.pid`),
      processFile: join(bundle, `${name}.json`),
    });
  }

  rootfsPath(id: string): string {
    return this.layout.rootfs(id);
  }

  async processUser(id: string): Promise<{ uid: number; gid: number } | undefined> {
    assertValidId(id);
    return (await this.record(id))?.user;
  }

  async processEnv(id: string): Promise<string[] | undefined> {
    assertValidId(id);
    return (await this.record(id))?.env;
  }

  async updateGroup(name: string, limits: GroupLimits): Promise<void> {
    assertValidId(name);
    try {
      await updateGroupLimits(this.groupPath(name), limits);
    } catch (err) {
      // v1 refuses a memory ceiling below current usage (EBUSY) and a CPU quota below a member's (EINVAL).
      throw new RuntimeError(
        "invalid_spec",
        `the kernel refused the new ceilings for group ${name} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): its running containers use or ask for more; stop some first`,
        { cause: err },
      );
    }
  }

  async removeGroup(name: string): Promise<void> {
    assertValidId(name);
    const groupPath = this.groupPath(name);
    this.cancelIdleRemoval(groupPath);
    if ((creating.get(groupPath) ?? 0) === 0) await this.removeGroupWhenIdle(groupPath);
    if ((creating.get(this.cgroupParent) ?? 0) === 0) await removeEmptyParent(this.cgroupParent);
  }

  private groupPath(name: string): string {
    return `${this.cgroupParent}/${name}`;
  }

  /**
   * rmdir of an idle group, published in `groupRemovals` in the same tick as the
   * idle check, so a create that starts meanwhile waits for it and makes the
   * group again with its ceilings (crun's own mkdir -p would make it without).
   */
  private removeGroupWhenIdle(groupPath: string): Promise<void> {
    const removal = removeGroupDirs(groupPath).finally(() => {
      if (groupRemovals.get(groupPath) === removal) groupRemovals.delete(groupPath);
    });
    groupRemovals.set(groupPath, removal);
    return removal;
  }

  /** conmon's attach socket (SOCK_SEQPACKET) for the container's stdio. */
  attachSocketPath(id: string): string {
    return this.layout.attachSocket(id);
  }

  /** Stops watching the exit dir and reading stdio, and removes idle groups; containers keep running. */
  async close(): Promise<void> {
    this.exits.close();
    this.stdio.close();
    await this.ports.closeAll();
    this.processes.close();
    const idle = [...this.idleGroups.keys()];
    for (const g of idle) this.cancelIdleRemoval(g);
    await Promise.all(idle.filter((g) => (creating.get(g) ?? 0) === 0).map((g) => this.removeGroupWhenIdle(g)));
    // The parent stays while a group does (rmdir is quiet on a non-empty dir).
    if ((creating.get(this.cgroupParent) ?? 0) === 0) await removeEmptyParent(this.cgroupParent);
  }

  /** An emptied group is kept (see idleGroups) until its tenant is deleted or the backend closes. */
  private keepIdleGroup(groupPath: string): Promise<void> {
    this.idleGroups.add(groupPath);
    return Promise.resolve();
  }

  private cancelIdleRemoval(groupPath: string): void {
    this.idleGroups.delete(groupPath);
  }

  private async buildState(id: string, rt: RuntimeStateJson | undefined, known = false): Promise<ContainerState | undefined> {
    if (!rt && !known && !(await fileExists(this.layout.bundle(id)))) return undefined;
    const record = await this.record(id);
    const status = !rt || rt.status === "stopped" ? "stopped" : rt.status === "created" ? "created" : "running";
    const state: ContainerState = { id, status, annotations: record?.annotations ?? {} };
    if (status !== "stopped" && rt?.pid) state.pid = rt.pid;
    if (status === "stopped") {
      const exit = await this.readExit(id);
      if (exit) state.exit = exit;
    }
    return state;
  }

  private async readExit(id: string): Promise<ExitInfo | undefined> {
    const raw = await readExitFile(this.layout.exitFile(id));
    if (!raw) return undefined;
    const record = await this.record(id);
    const oom = (await fileExists(this.layout.oomFile(id))) || (record?.cgroupsPath !== undefined && (await cgroupOomKilled(record.cgroupsPath)));
    return exitInfo(raw.exitCode, raw.finishedAt, oom);
  }

  private async record(id: string) {
    const cached = this.records.get(id);
    if (cached) return cached;
    try {
      const rec = readBundleRecord(await readFile(this.layout.config(id), "utf8"));
      this.records.set(id, rec);
      return rec;
    } catch {
      return undefined;
    }
  }

  private async removeEverything(id: string): Promise<void> {
    const rec = await this.record(id);
    this.records.delete(id);
    await this.runtime.forceDelete(id);
    await this.processes.stopAll(id);
    await stopStdinRelay(this.layout.bundle(id));
    await this.egress.detach(id);
    const cgroupsPath = rec?.cgroupsPath ?? `${this.cgroupParent}/${id}`;
    const groupPath = dirname(cgroupsPath) === this.cgroupParent ? undefined : dirname(cgroupsPath);
    await removeContainerFiles(id, this.layout, {
      cgroupsPath,
      parentPath: this.cgroupParent,
      // Both checked when the container's own cgroup is gone, right before the rmdirs.
      removeGroup: groupPath ? () => this.keepIdleGroup(groupPath) : undefined,
      removeParent: () => (creating.get(this.cgroupParent) ?? 0) === 0,
    });
  }
}

/** In-flight creates per cgroup parent and per group (process-wide): either is only removed when none are. */
const creating = new Map<string, number>();
/** Group rmdirs in flight, which a create into that group waits for. */
const groupRemovals = new Map<string, Promise<void>>();

function notFound(id: string): RuntimeError {
  return new RuntimeError("not_found", `no container ${id} on this host: it was deleted or never created`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readdirSafe(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
