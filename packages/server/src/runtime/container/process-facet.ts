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
// stdin: conmon runs without --leave-stdin-open, so the process's stdin closes
// as soon as an attach connection ends (attach.ts) — that is how EOF is
// delivered. The one connection is socat's, started next to conmon in its own
// session, copying the `stdin` fifo to the attach socket.
// socat reads the fifo, which a keeper process (`sleep infinity`, in its own
// session) holds open for writing, so socat sees end-of-file neither when the
// server's writer goes (a restart) nor ever, until the keeper is killed: then
// socat forwards what the fifo still holds, reads EOF and ends its connection,
// and conmon closes the process's stdin. A server restart leaves all of it alone.
// The hub reads output from the log only and never connects itself.

import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { readdir, readlink, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import { loadNative } from "@nimbus/native";
import type { ProcessSpec, ProcessState, ProcessStdio, ProcessesFacet, RuntimeLog } from "../backend.js";
import { RuntimeError, assertValidId } from "../errors.js";
import type { AttachInput } from "./attach.js";
import { ociProcess } from "./bundle.js";
import { reapChild, runChecked } from "./exec.js";
import { readExitFile, signalFromExitCode } from "./exit-file.js";
import type { StateLayout } from "./layout.js";
import { StdioHubs, type StdioHub } from "./stdio-hub.js";
import { groupMembers, processGroupOf } from "./process-group.js";

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
/** How long closeStdin() waits for the relay to go. */
const RELAY_EXIT_MS = 3_000;

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
      input: (k) => ({ open: () => this.stdinWriter(this.dirOfHubKey(k)), canHold: false }),
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
      if (spec.stdin) await this.startRelay(dir);
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
      let buffered = "";
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
      sync.on("data", (b: Buffer) => {
        buffered += b.toString("utf8");
        const nl = buffered.indexOf("\n");
        if (nl < 0) return;
        try {
          const msg = JSON.parse(buffered.slice(0, nl)) as { data?: number; message?: string };
          if (typeof msg.data === "number" && msg.data > 0) finish(undefined, msg.data);
          else finish(new RuntimeError("start_failed", msg.message?.trim() || "the runtime could not start the process"));
        } catch (e) {
          finish(new RuntimeError("start_failed", `unreadable message from conmon: ${buffered.slice(0, nl)}`, { cause: e }));
        }
      });
      sync.on("close", () => finish(new RuntimeError("start_failed", "conmon exited without reporting the process")));
    });
  }

  /**
   * socat from the stdin fifo to the attach socket (its output goes nowhere),
   * and a keeper that holds the fifo open for writing, so socat reads
   * end-of-file only once the keeper is gone and no server writes (see the header).
   */
  private async startRelay(dir: string): Promise<void> {
    if (!this.o.socatPath) throw new RuntimeError("host_unsupported", "socat is not installed (processes with stdin need it): run `apt-get install socat`");
    const fifo = join(dir, "stdin");
    await runChecked("mkfifo", ["-m", "600", fifo]);
    const native = loadNative();
    const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
    // O_RDWR: a fifo opened for writing with no reader yet would block (or fail).
    const keeperEnd = openSync(fifo, constants.O_RDWR);
    try {
      const keeper = await native.spawnAsync(this.o.sleepPath, [this.o.sleepPath, "infinity"], env, dir, [-1, keeperEnd, -1], true);
      await writeFile(join(dir, "keeper.pid"), String(keeper));
      void reapChild(keeper, { unref: true });
    } finally {
      closeSync(keeperEnd);
    }
    const socat = this.o.socatPath;
    const args = [socat, "OPEN:stdin,rdonly!!OPEN:/dev/null,wronly", "UNIX-CONNECT:attach,type=5"];
    const relay = await native.spawnAsync(socat, args, env, dir, [-1, -1, -1], true);
    await writeFile(join(dir, "relay.pid"), String(relay));
    void reapChild(relay, { unref: true });
    // Until socat has the fifo open, the keeper is its only opener: an EOF (the
    // keeper killed) before that would drop what the fifo holds and leave socat
    // blocked in open() for good.
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await holdsOpen(relay, fifo))) {
      if (livePid(join(dir, "relay.pid"), "socat") === undefined) throw new RuntimeError("start_failed", "the stdin relay (socat) exited at start");
      if (Date.now() > deadline) throw new RuntimeError("start_failed", "the stdin relay (socat) did not open the stdin fifo");
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async state(containerId: string, key: string): Promise<ProcessState | undefined> {
    const dir = this.dir(containerId, key);
    if (!existsSync(dir)) return undefined;
    const exit = await this.readExit(containerId, dir);
    const pid = readPid(join(dir, "pid"));
    if (exit) return { running: false, exit, ...(pid ? { pid } : {}) };
    const conmon = livePid(join(dir, "conmon.pid"), "conmon");
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
        // Its stdin keeper has nothing left to keep open (socat ended with conmon's socket).
        const keeper = livePid(join(this.dir(containerId, key), "keeper.pid"), "sleep");
        if (keeper !== undefined) killQuietly(keeper, "SIGKILL");
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

  /** The keeper goes and the server's writer closes: socat forwards what the fifo still holds, reads EOF, and ends its connection. */
  async closeStdin(containerId: string, key: string): Promise<void> {
    const dir = this.dir(containerId, key);
    const keeper = livePid(join(dir, "keeper.pid"), "sleep");
    if (keeper !== undefined) killQuietly(keeper, "SIGKILL");
    this.writers.get(dir)?.close();
    const deadline = Date.now() + RELAY_EXIT_MS;
    while (livePid(join(dir, "relay.pid"), "socat") !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
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
        for (const [file, name] of [
          ["keeper.pid", "sleep"],
          ["relay.pid", "socat"],
          ["conmon.pid", "conmon"],
        ] as const) {
          const deadline = Date.now() + RELAY_EXIT_MS;
          for (let pid = livePid(join(dir, file), name); pid !== undefined; pid = livePid(join(dir, file), name)) {
            if (Date.now() > deadline) killQuietly(pid, "SIGKILL");
            else if (name !== "conmon") killQuietly(pid, "SIGKILL");
            await new Promise((r) => setTimeout(r, 10));
            if (Date.now() > deadline + 1_000) break;
          }
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

  /** Writes to the stdin fifo; fails once the relay is gone (stdin closed or the process ended). */
  private stdinWriter(dir: string): AttachInput {
    let sock: Socket | undefined;
    let closed = false;
    const writers = this.writers;
    let queue = Promise.resolve();
    const ensure = async (): Promise<Socket> => {
      if (sock && !sock.destroyed) return sock;
      const deadline = Date.now() + RELAY_EXIT_MS;
      for (;;) {
        try {
          // O_NONBLOCK: opening a fifo nobody reads fails (ENXIO) instead of blocking.
          const fd = openSync(join(dir, "stdin"), constants.O_WRONLY | constants.O_NONBLOCK);
          sock = new Socket({ fd, readable: false, writable: true });
          sock.on("error", () => undefined);
          return sock;
        } catch (err) {
          // A relay that was just started may not have opened the fifo yet.
          const starting = (err as NodeJS.ErrnoException).code === "ENXIO" && livePid(join(dir, "relay.pid"), "socat") !== undefined;
          if (!starting || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const write = async (data: Buffer): Promise<void> => {
      if (closed) throw new Error("stdin is closed");
      const s = await ensure();
      await new Promise<void>((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve())));
    };
    const writer: AttachInput = {
      write: (data) => {
        const next = queue.then(() => write(data));
        queue = next.catch(() => undefined);
        return next;
      },
      close: () => {
        closed = true;
        sock?.destroy();
        if (writers.get(dir) === writer) writers.delete(dir);
      },
      get closed() {
        return closed;
      },
    };
    writers.set(dir, writer);
    return writer;
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

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` has `path` open. */
async function holdsOpen(pid: number, path: string): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === path) return true;
  }
  return false;
}

/** The pid in `file` while a process named `name` runs there (a zombie or a reused pid does not count). */
function livePid(file: string, name: string): number | undefined {
  const pid = readPid(file);
  if (pid === undefined) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.split("\0")[0]?.endsWith(name) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* closed */
  }
}
