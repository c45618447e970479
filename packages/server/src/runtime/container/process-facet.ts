// runtime/container/process-facet.ts — processes started on demand in a running
// container, each under its own conmon in exec mode (`--exec --exec-process-spec`),
// the way podman runs `podman exec -d`: conmon runs `<runtime> exec --detach
// --process <file>`, holds the process's stdio, writes the k8s-file log, serves
// the attach socket and ctl fifo, and records the exit code in its exit dir. It
// is spawned in its own session and daemonises (no --sync), so it outlives the
// server, which finds everything again from the files after a restart.
//
// Per process, under the container's bundle (so a container's delete removes it):
//   p/<key>/process.json   the OCI process (0600; removed once the runtime started it)
//   p/<key>/pid            the process's host pid (the runtime's --pid-file)
//   p/<key>/conmon.pid     conmon's pid
//   p/<key>/ctr.log        its output (k8s-file, read by the stdio hub)
//   p/<key>/x/<container>  conmon's exit record (conmon names it after -c)
//   p/<key>/ctl, winsz     conmon's control fifos (terminal resize)
//   p/<key>/attach         conmon's attach socket
//   p/<key>/stdin          a fifo the server writes the process's stdin to
//
// stdin: conmon runs without --leave-stdin-open and the process's stdin is a
// relay (stdin-relay.ts: socat from a fifo to the attach socket, a keeper
// holding the fifo open), so it is closed by closeStdin() and by nothing else,
// a server restart included. The hub reads output from the log only and never
// connects itself.

import { closeSync, existsSync, mkdirSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import { loadNative } from "@nimbus/native";
import type { ProcessSpec, ProcessState, ProcessStdio, ProcessesFacet, RuntimeLog } from "../backend.js";
import { RuntimeError, assertValidId } from "../errors.js";
import type { AttachInput } from "./attach.js";
import { ociProcess } from "./bundle.js";
import { reapChild } from "./exec.js";
import { readExitFile, signalFromExitCode } from "./exit-file.js";
import type { StateLayout } from "./layout.js";
import { StdioHubs, type StdioHub } from "./stdio-hub.js";
import { groupMembers, processGroupOf } from "./process-group.js";
import { onConmonReport } from "./conmon-report.js";
import { closeQuietly, killQuietly, livePid, readPidFile as readPid } from "./pid-files.js";
import { endStdinRelay, releaseStdinKeeper, startStdinRelay, stdinRelayWriter, stopStdinRelay } from "./stdin-relay.js";

export interface ContainerProcessesOptions {
  layout: StateLayout;
  conmonPath: string;
  runtimePath: string;
  runtimeArgs: string[];
  /** undefined when socat is not installed: processes without stdin still work. */
  socatPath: string | undefined;
  /** coreutils' sleep, the stdin keeper. */
  sleepPath: string;
  logSizeMaxBytes: number;
  log: RuntimeLog;
}

/** How long start() waits for conmon to report the process running. */
const START_TIMEOUT_MS = 30_000;
/** How often wait() looks at the exit record. */
const EXIT_POLL_MS = 100;
/** How long an ended process's last output may take to be read. */
const END_DRAIN_MS = 2_000;
/** How long stopAll() waits for a process's conmon to go before it is killed. */
const CONMON_EXIT_MS = 3_000;

export class ContainerProcesses implements ProcessesFacet {
  private readonly hubs: StdioHubs;
  /** The hubs' stdin writers, by process dir (closeStdin closes the one there is). */
  private readonly writers = new Map<string, AttachInput>();
  /** Hubs of ended processes, kept for replay until the process is removed. */
  private readonly endedHubs = new Map<string, StdioHub>();
  private readonly socketsDir: string;

  constructor(private readonly o: ContainerProcessesOptions) {
    this.socketsDir = o.layout.socketsDir;
    this.hubs = new StdioHubs({
      paths: {
        attachSocket: (k) => join(this.dirOfHubKey(k), "attach"),
        log: (k) => join(this.dirOfHubKey(k), "ctr.log"),
        ctl: (k) => join(this.dirOfHubKey(k), "ctl"),
      },
      log: o.log,
      input: (k) => ({ open: () => this.stdinWriter(this.dirOfHubKey(k)), canHold: false, end: () => this.closeStdinDir(this.dirOfHubKey(k)) }),
    });
  }

  dir(containerId: string, key: string): string {
    return join(this.o.layout.bundle(containerId), "p", key);
  }

  async start(containerId: string, key: string, spec: ProcessSpec): Promise<{ pid: number }> {
    assertValidId(containerId);
    assertValidId(key);
    if (!existsSync(this.o.layout.bundle(containerId))) throw new RuntimeError("not_found", `no container ${containerId} on this host`);
    const dir = this.dir(containerId, key);
    mkdirSync(join(dir, "x"), { recursive: true, mode: 0o700 });
    const processFile = join(dir, "process.json");
    const proc = ociProcess({ args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user, terminal: !!spec.terminal });
    if (spec.terminal) proc.consoleSize = { height: spec.terminal.rows, width: spec.terminal.cols };
    // "wx": a fresh file of ours, never one someone placed there before us.
    await writeFile(processFile, JSON.stringify(proc), { mode: 0o600, flag: "wx" });
    try {
      const pid = await this.launch(containerId, key, dir, spec);
      if (spec.stdin) await startStdinRelay(dir, join(dir, "attach"), this.o);
      return { pid };
    } finally {
      await rm(processFile, { force: true });
    }
  }

  private async launch(containerId: string, key: string, dir: string, spec: ProcessSpec): Promise<number> {
    const args = [
      "--api-version",
      "1",
      "-c",
      containerId,
      "-u",
      this.cuuid(containerId, key),
      "-n",
      containerId,
      "-r",
      this.o.runtimePath,
      "-b",
      dir,
      "-p",
      join(dir, "pid"),
      "-P",
      join(dir, "conmon.pid"),
      "-l",
      `k8s-file:${join(dir, "ctr.log")}`,
      "--log-size-max",
      String(this.o.logSizeMaxBytes),
      "--no-sync-log",
      "--exit-dir",
      join(dir, "x"),
      "--persist-dir",
      dir,
      "--socket-dir-path",
      this.socketsDir,
      "--log-level",
      "error",
      "-e",
      "--exec-process-spec",
      join(dir, "process.json"),
    ];
    if (spec.stdin) args.push("-i");
    if (spec.terminal) args.push("-t");
    for (const a of this.o.runtimeArgs) args.push("--runtime-arg", a);
    const native = loadNative();
    const [syncRead, syncWrite] = native.pipe();
    const env = Object.entries({ ...process.env, _OCI_SYNCPIPE: "3" }).map(([k, v]) => `${k}=${v}`);
    let spawned: Promise<number>;
    try {
      spawned = native.spawnAsync(this.o.conmonPath, [this.o.conmonPath, ...args], env, dir, [-1, -1, -1, syncWrite], true);
    } catch (err) {
      closeSync(syncRead);
      closeSync(syncWrite);
      throw err;
    }
    // The first conmon writes conmon.pid and exits right after forking its daemon.
    void spawned.then(
      (p) => {
        closeQuietly(syncWrite);
        void reapChild(p, { giveUpMs: 60_000, unref: true });
      },
      () => closeQuietly(syncWrite),
    );
    const sync = new Socket({ fd: syncRead, readable: true, writable: false });
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error, pid?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sync.destroy();
        if (err) reject(err);
        else resolve(pid!);
      };
      const timer = setTimeout(
        () => finish(new RuntimeError("start_failed", `conmon did not report the process within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      spawned.catch((err: Error) => finish(new RuntimeError("start_failed", `could not start conmon: ${err.message}`, { cause: err })));
      sync.on("error", () => undefined);
      onConmonReport(
        sync,
        () => "the runtime could not start the process",
        (r) => finish("pid" in r ? undefined : new RuntimeError("start_failed", r.error, { cause: r.cause }), "pid" in r ? r.pid : undefined),
      );
      sync.on("close", () => finish(new RuntimeError("start_failed", "conmon exited without reporting the process")));
    });
  }

  async state(containerId: string, key: string): Promise<ProcessState | undefined> {
    const dir = this.dir(containerId, key);
    if (!existsSync(dir)) return undefined;
    const exit = await this.readExit(containerId, dir);
    const pid = readPid(join(dir, "pid"));
    if (exit) return { running: false, exit, ...(pid ? { pid } : {}) };
    const conmon = this.liveMonitor(containerId, key);
    if (conmon === undefined) {
      // conmon died without an exit record (killed, or the host rebooted): the process is lost with it.
      return { running: false, exit: { exitCode: -1, finishedAt: new Date().toISOString() } };
    }
    return { running: true, ...(pid ? { pid } : {}) };
  }

  async wait(containerId: string, key: string, signal?: AbortSignal): Promise<NonNullable<ProcessState["exit"]>> {
    for (;;) {
      signal?.throwIfAborted();
      const s = await this.state(containerId, key);
      if (!s) throw new RuntimeError("not_found", `no process ${key} in container ${containerId}`);
      if (s.exit) {
        releaseStdinKeeper(this.dir(containerId, key));
        await this.endHub(containerId, key);
        return s.exit;
      }
      await new Promise((r) => setTimeout(r, EXIT_POLL_MS));
    }
  }

  /**
   * The whole process group. With a terminal the runtime makes the process a
   * session (and group) leader; without one it stays in conmon's group, so
   * every member of that group but conmon itself is signalled.
   */
  async signal(containerId: string, key: string, signal: NodeJS.Signals): Promise<void> {
    const dir = this.dir(containerId, key);
    const pid = readPid(join(dir, "pid"));
    if (!pid || (await this.readExit(containerId, dir))) return;
    const pgid = processGroupOf(pid);
    if (pgid === pid) return killQuietly(-pid, signal);
    const monitor = readPid(join(dir, "conmon.pid"));
    const members = pgid === undefined ? [pid] : await groupMembers(pgid);
    for (const member of members) if (member !== monitor && member !== pgid) killQuietly(member, signal);
    if (!members.includes(pid)) killQuietly(pid, signal);
  }

  async stdio(containerId: string, key: string): Promise<ProcessStdio> {
    const ended = this.endedHubs.get(this.hubKey(containerId, key));
    if (ended) return ended;
    if (!existsSync(this.dir(containerId, key))) throw new RuntimeError("not_found", `no process ${key} in container ${containerId}`);
    const hub = await this.hubs.acquire(this.hubKey(containerId, key));
    if (await this.readExit(containerId, this.dir(containerId, key))) return this.endHub(containerId, key);
    return hub;
  }

  /**
   * The process ended: its hub hands on the rest of the log and is then `ended`,
   * and is kept (not replaced) so its readers can still replay, until remove().
   */
  private async endHub(containerId: string, key: string): Promise<StdioHub> {
    const k = this.hubKey(containerId, key);
    const known = this.endedHubs.get(k);
    if (known) return known;
    const hub = await this.hubs.acquire(k);
    if (!this.endedHubs.has(k)) {
      this.endedHubs.set(k, hub);
      await hub.drain(END_DRAIN_MS);
    }
    return this.endedHubs.get(k)!;
  }

  /** EOF on the process's stdin (stdin-relay.ts). */
  closeStdin(containerId: string, key: string): Promise<void> {
    return this.closeStdinDir(this.dir(containerId, key));
  }

  private closeStdinDir(dir: string): Promise<void> {
    return endStdinRelay(dir, this.writers.get(dir));
  }

  /** Kills it first if it still runs (a start that failed half-way), so its monitor can end. */
  async remove(containerId: string, key: string): Promise<void> {
    await this.signal(containerId, key, "SIGKILL");
    await this.stopAll(containerId, [key]);
    this.dropHub(containerId, key);
    await rm(this.dir(containerId, key), { recursive: true, force: true });
  }

  /** Before a container's delete: ends its processes' monitors and relays (the container's kill ends the processes). */
  async stopAll(containerId: string, keys?: string[]): Promise<void> {
    const base = join(this.o.layout.bundle(containerId), "p");
    const all = keys ?? (await readdir(base).catch(() => [] as string[]));
    await Promise.all(
      all.map(async (key) => {
        const dir = join(base, key);
        this.dropHub(containerId, key);
        await stopStdinRelay(dir);
        // conmon ends with its process (the container's kill); one that lingers is killed.
        const deadline = Date.now() + CONMON_EXIT_MS;
        for (let pid = this.liveMonitor(containerId, key); pid !== undefined; pid = this.liveMonitor(containerId, key)) {
          if (Date.now() > deadline) killQuietly(pid, "SIGKILL");
          await new Promise((r) => setTimeout(r, 10));
          if (Date.now() > deadline + 1_000) break;
        }
        await rm(join(this.socketsDir, this.cuuid(containerId, key)), { force: true });
      }),
    );
  }

  close(): void {
    this.hubs.close();
    for (const h of this.endedHubs.values()) h.dispose();
    this.endedHubs.clear();
  }

  private dropHub(containerId: string, key: string): void {
    const k = this.hubKey(containerId, key);
    this.endedHubs.get(k)?.dispose();
    this.endedHubs.delete(k);
    this.hubs.retire(k, 0);
  }

  private async readExit(containerId: string, dir: string): Promise<ProcessState["exit"]> {
    const raw = await readExitFile(join(dir, "x", containerId));
    if (!raw) return undefined;
    const signal = signalFromExitCode(raw.exitCode);
    return { exitCode: raw.exitCode, finishedAt: raw.finishedAt, ...(signal ? { signal } : {}) };
  }

  /** The hub's writer to the stdin fifo, known by dir so closeStdin() closes it after its queued writes. */
  private stdinWriter(dir: string): AttachInput {
    const writer = stdinRelayWriter(dir, () => {
      if (this.writers.get(dir) === writer) this.writers.delete(dir);
    });
    this.writers.set(dir, writer);
    return writer;
  }

  /** The process's conmon while it runs: its pid file's pid, still a conmon given this process's cuuid (pids are reused). */
  private liveMonitor(containerId: string, key: string): number | undefined {
    return livePid(join(this.dir(containerId, key), "conmon.pid"), "conmon", this.cuuid(containerId, key));
  }

  /** conmon's name for the attach link in the sockets dir. */
  private cuuid(containerId: string, key: string): string {
    return `${containerId}--${key}`;
  }

  private hubKey(containerId: string, key: string): string {
    return `${containerId}/${key}`;
  }

  private dirOfHubKey(hubKey: string): string {
    const [containerId = "", key = ""] = hubKey.split("/");
    return this.dir(containerId, key);
  }
}
