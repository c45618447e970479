// runtime/container/stdin-relay.ts — a stdin that can be closed (EOF) and yet
// survives server restarts, for a process whose conmon runs without
// --leave-stdin-open (an on-demand process, or a main process created with
// closable stdin).
//
// Such a conmon closes the process's stdin as soon as an attach connection
// ends (attach.ts): that is how EOF is delivered, and why the server must never
// be that connection (its restart would close stdin). The one connection is
// socat's, started next to conmon in its own session, copying a `stdin` fifo to
// the attach socket. socat reads the fifo, which a keeper process (`sleep
// infinity`, in its own session) holds open for writing, so socat sees
// end-of-file neither when the server's writer goes (a restart) nor ever, until
// the keeper is killed: then socat forwards what the fifo still holds, reads
// EOF, ends its connection, and conmon closes the process's stdin.
//
// Files, in the relay's dir: `stdin` (the fifo; its existence marks a relay),
// `keeper.pid`, `relay.pid`, `relay.err` (socat's stderr).

import { closeSync, constants, existsSync, openSync, readlinkSync, realpathSync } from "node:fs";
import { readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join, relative } from "node:path";
import { loadNative, type ReapedStatus } from "@nimbus/native";
import { RuntimeError } from "../errors.js";
import type { AttachInput } from "./attach.js";
import { reapChild, runChecked } from "./exec.js";
import { killQuietly, livePid } from "./pid-files.js";

export interface RelayTools {
  /** undefined when socat is not installed: only processes without closable stdin work then. */
  socatPath: string | undefined;
  /** coreutils' sleep, the keeper. */
  sleepPath: string;
}

/** How long a relay may take to open its fifo at start. */
const OPEN_TIMEOUT_MS = 30_000;
/** How long an EOF or a stop waits for the relay to go, and a writer for a starting relay. */
const RELAY_EXIT_MS = 3_000;

/** Whether `dir` holds a relay's fifo (the process's stdin can be closed). */
export function hasStdinRelay(dir: string): boolean {
  return existsSync(join(dir, "stdin"));
}

/**
 * The fifo, the keeper and socat, connected to `attachSocket`. socat runs in
 * `dir` and reaches the socket by a relative path: sun_path holds 108 bytes,
 * which a deep state dir would exceed.
 */
export async function startStdinRelay(dir: string, attachSocket: string, tools: RelayTools): Promise<void> {
  if (!tools.socatPath) throw new RuntimeError("host_unsupported", "socat is not installed (a closable stdin needs it): run `apt-get install socat`");
  const fifo = join(dir, "stdin");
  await runChecked("mkfifo", ["-m", "600", fifo]);
  const native = loadNative();
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  // O_RDWR: a fifo opened for writing with no reader yet would block (or fail).
  const keeperEnd = openSync(fifo, constants.O_RDWR);
  let keeperEnded = false;
  try {
    const keeper = await native.spawnAsync(tools.sleepPath, [tools.sleepPath, "infinity"], env, dir, [-1, keeperEnd, -1], true);
    await writeFile(join(dir, "keeper.pid"), String(keeper));
    void reapChild(keeper, { unref: true }).then(() => (keeperEnded = true));
  } finally {
    closeSync(keeperEnd);
  }
  // retry: conmon may report the process before its attach socket listens (ECONNREFUSED
  // between bind and listen, seen on a loaded host); socat tries again every 20 ms for 5 s.
  const connect = `UNIX-CONNECT:${relative(dir, attachSocket)},type=5,retry=250,interval=0.02`;
  const args = [tools.socatPath, "-d", "-d", "OPEN:stdin,rdonly!!OPEN:/dev/null,wronly", connect];
  // socat's notes (-d -d: its connection, and why it ended) go to a file in the dir, so a relay that dies says why.
  const errFile = join(dir, "relay.err");
  const errFd = openSync(errFile, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  let relay: number;
  try {
    relay = await native.spawnAsync(tools.socatPath, args, env, dir, [-1, -1, errFd], true);
  } finally {
    closeSync(errFd);
  }
  await writeFile(join(dir, "relay.pid"), String(relay));
  // Whether socat has ended is its exit status (it is our child), never its
  // /proc entry: posix_spawn returns once the child's new memory is in place,
  // before the kernel has set up its argv, so a cmdline read at once is empty
  // (a third of the time on a busy host), and a live relay looked dead.
  let ended: ReapedStatus | "unknown" | undefined;
  void reapChild(relay, { unref: true }).then((status) => (ended = status ?? "unknown"));
  // Until socat has the fifo open, the keeper is its only opener: an EOF (the
  // keeper killed) before that would drop what the fifo holds and leave socat
  // blocked in open() for good. And until the keeper's argv is in place, an
  // EOF would not know it for the keeper (see above) and so never come.
  const deadline = Date.now() + OPEN_TIMEOUT_MS;
  while (!(await holdsOpen(relay, fifo)) || relayPid(dir, "keeper.pid", "sleep") === undefined) {
    if (keeperEnded) throw new RuntimeError("start_failed", "the stdin relay's keeper (sleep) ended at start");
    if (ended !== undefined) {
      const how = ended === "unknown" ? "ended" : ended.signal ? `was killed (signal ${ended.signal})` : `exited with status ${ended.exitCode}`;
      const said = (await readFile(errFile, "utf8").catch(() => "")).trim().split("\n").slice(-4).join(" | ");
      throw new RuntimeError("start_failed", `the stdin relay (socat) ${how} at start${said ? `: ${said}` : ""}`);
    }
    if (Date.now() > deadline) throw new RuntimeError("start_failed", "the stdin relay (socat) did not open the stdin fifo");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Writes to the fifo, in call order; fails once the relay is gone (stdin closed, or the process ended). `onClose` runs at close(). */
export function stdinRelayWriter(dir: string, onClose?: () => void): AttachInput {
  let sock: Socket | undefined;
  let closed = false;
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
        const starting = (err as NodeJS.ErrnoException).code === "ENXIO" && relayPid(dir, "relay.pid", "socat") !== undefined;
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
  return {
    write: (data) => {
      const next = queue.then(() => write(data));
      queue = next.catch(() => undefined);
      return next;
    },
    close: () => {
      closed = true;
      sock?.destroy();
      onClose?.();
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * EOF: the keeper goes and `writer` (the server's, after its queued writes)
 * closes; socat forwards what the fifo still holds, reads EOF and ends its
 * connection, which closes the process's stdin.
 */
export async function endStdinRelay(dir: string, writer: AttachInput | undefined): Promise<void> {
  const keeper = relayPid(dir, "keeper.pid", "sleep");
  if (keeper !== undefined) killQuietly(keeper, "SIGKILL");
  writer?.close();
  const deadline = Date.now() + RELAY_EXIT_MS;
  while (relayPid(dir, "relay.pid", "socat") !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** The process ended: its keeper has nothing left to keep open (socat ended with conmon's socket). */
export function releaseStdinKeeper(dir: string): void {
  const keeper = relayPid(dir, "keeper.pid", "sleep");
  if (keeper !== undefined) killQuietly(keeper, "SIGKILL");
}

/** Before the process's dir goes: kills the keeper and socat, and waits (bounded) until they are gone. */
export async function stopStdinRelay(dir: string): Promise<void> {
  for (const [file, name] of [
    ["keeper.pid", "sleep"],
    ["relay.pid", "socat"],
  ] as const) {
    const deadline = Date.now() + RELAY_EXIT_MS;
    for (let pid = relayPid(dir, file, name); pid !== undefined && Date.now() < deadline; pid = relayPid(dir, file, name)) {
      killQuietly(pid, "SIGKILL");
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * The relay's process recorded in `file` while it runs: named `name` and
 * working in `dir`, as it was started. pid_max is 32768 here, so a pid file
 * outlives its process's pid; without the dir check a stale keeper.pid
 * matched the next `sleep` (another process's keeper) and killed it, which
 * ended that relay at its start.
 */
function relayPid(dir: string, file: string, name: string): number | undefined {
  const pid = livePid(join(dir, file), name);
  if (pid === undefined) return undefined;
  try {
    // The kernel names the cwd by its real path; the state dir may be reached through a link.
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dir) ? pid : undefined;
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
