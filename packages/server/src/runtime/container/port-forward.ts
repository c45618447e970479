// runtime/container/port-forward.ts — publishing a port of a container on the host's loopback.
// A sandbox's network namespace has only `lo`, and its egress stays denied, so
// nothing can be routed in. Instead, one helper per port runs *inside* the
// namespace (nsenter --net) and serves a unix socket in a host directory the
// sandbox cannot see: `socat UNIX-LISTEN:<sock>,fork TCP:127.0.0.1:<port>`.
// The socket dir is 0700 and each socket 0600, so only the server's user gets
// in; the authenticated proxy connects there. Only a port published with
// `host: true` also gets a host-side Node TCP server on 127.0.0.1:<ephemeral>
// that pipes each connection to that socket: any local user can reach that
// one, without a credential (issue 15 #19), so it is opt-in. The helper gets SIGKILL when its parent (this process) dies
// (setpriv --pdeathsig), so a killed server leaves no helper holding a netns;
// `sweep` also kills any helper of the socket dir left by an earlier process.
// May import: node built-ins and runtime/ only. The ports facet (ports-facet.ts) is its face to the domain.

import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { PortForward } from "../backend.js";
import { findBinary } from "./exec.js";
import { RuntimeError } from "../errors.js";

/** One published port, with the unix socket its helper serves. */
export interface Forward extends PortForward {
  readonly socketPath: string;
  connect(): Socket;
}

export interface PortForwarderOptions {
  /** Where the per-port unix sockets live, e.g. `<data-dir>/endpoints`. Created if missing. */
  socketDir: string;
  /** The host address the TCP listeners bind. @default "127.0.0.1" */
  host?: string;
}

const SOCKET_WAIT_MS = 3_000;
const MAX_SOCKET_PATH = 107;

export class PortForwarder {
  readonly host: string;
  private readonly socat: string | undefined;
  private readonly nsenter: string | undefined;
  private readonly setpriv: string | undefined;
  private readonly open = new Set<Forward>();

  constructor(private readonly options: PortForwarderOptions) {
    this.host = options.host ?? "127.0.0.1";
    this.socat = findBinary("socat");
    this.nsenter = findBinary("nsenter");
    this.setpriv = findBinary("setpriv");
  }

  /** Why ports cannot be published on this host, or undefined when they can. */
  unavailableReason(): string | undefined {
    const missing = [!this.socat && "socat", !this.nsenter && "nsenter (util-linux)"].filter(Boolean);
    return missing.length ? `publishing ports needs ${missing.join(" and ")}: run \`apt-get install -y socat util-linux\`` : undefined;
  }

  /** Publish `port` of the network namespace of process `pid`; `key` names the sandbox (path-safe). */
  async publish(key: string, pid: number, port: number, options: { host?: boolean } = {}): Promise<Forward> {
    const reason = this.unavailableReason();
    if (reason) throw new RuntimeError("host_unsupported", reason);
    mkdirSync(this.options.socketDir, { recursive: true, mode: 0o700 });
    // A dir that existed before (or under a lax umask) is tightened too: the sockets are the credential-free way in.
    chmodSync(this.options.socketDir, 0o700);
    const socketPath = join(this.options.socketDir, `${createHash("sha256").update(key).digest("hex").slice(0, 16)}-${port}.sock`);
    if (socketPath.length > MAX_SOCKET_PATH) {
      throw new RuntimeError("host_unsupported", `the endpoint socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter --data-dir`);
    }
    rmSync(socketPath, { force: true });
    const argv = [
      ...(this.setpriv ? [this.setpriv, "--pdeathsig", "KILL", "--"] : []),
      this.nsenter!,
      `--net=/proc/${pid}/ns/net`,
      "--",
      this.socat!,
      "-lf/dev/null",
      `UNIX-LISTEN:${socketPath},fork,mode=600,unlink-early,backlog=1024`,
      `TCP:127.0.0.1:${port},nodelay`,
    ];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.on("error", () => undefined);
    try {
      await waitForSocket(socketPath, child);
    } catch (err) {
      child.kill("SIGKILL");
      await exited;
      rmSync(socketPath, { force: true });
      throw new RuntimeError("internal", `could not publish port ${port} of ${key}: ${(err as Error).message}${stderr ? `: ${stderr.trim()}` : ""}`);
    }
    const conns = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(socketPath);
      conns.add(client).add(upstream);
      client.setNoDelay(true);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      // Ends travel through the pipes (so a response is flushed before its connection closes); errors tear both down.
      client.on("error", drop).on("close", () => {
        conns.delete(client);
        upstream.destroy();
      });
      upstream.on("error", drop).on("close", () => conns.delete(upstream));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    let hostPort: number | undefined;
    try {
      if (options.host) hostPort = await listen(server, this.host);
    } catch (err) {
      child.kill("SIGKILL");
      await exited;
      rmSync(socketPath, { force: true });
      throw err;
    }
    let closing: Promise<void> | undefined;
    const forward: Forward = {
      port,
      hostPort,
      socketPath,
      connect: () => {
        // Tracked like the listener's connections, so close() also ends upgraded (WebSocket) streams.
        const socket = connect(socketPath);
        conns.add(socket);
        socket.on("close", () => conns.delete(socket));
        return socket;
      },
      close: () =>
        (closing ??= (async () => {
          this.open.delete(forward);
          await new Promise<void>((resolve) => {
            if (server.listening) server.close(() => resolve());
            else resolve();
            for (const c of conns) c.destroy();
          });
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          const killTimer = setTimeout(() => child.kill("SIGKILL"), 1_000);
          await exited;
          clearTimeout(killTimer);
          rmSync(socketPath, { force: true });
        })()),
    };
    this.open.add(forward);
    return forward;
  }

  /** Close every published port (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((f) => f.close()));
  }

  /** Kill helpers of this socket dir left by an earlier process (e.g. one killed with -9) and remove stale sockets. */
  sweep(): number {
    const pids = forwarderPids(this.options.socketDir);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    let names: string[] = [];
    try {
      names = readdirSync(this.options.socketDir);
    } catch {
      /* no dir yet */
    }
    const live = new Set([...this.open].map((f) => f.socketPath));
    for (const n of names) if (!live.has(join(this.options.socketDir, n))) rmSync(join(this.options.socketDir, n), { force: true });
    return pids.length;
  }
}

/** Helper processes (socat, and its per-connection children) serving sockets under `socketDir`. */
export function forwarderPids(socketDir: string): number[] {
  const marker = `UNIX-LISTEN:${socketDir}/`;
  const pids: number[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (
        readFileSync(`/proc/${name}/cmdline`, "utf8")
          .split("\0")
          .some((a) => a.startsWith(marker))
      )
        pids.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/** Whether something listens on TCP `port` in the network namespace of process `pid` (a TCP readiness check). */
export async function isListening(pid: number, port: number): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN.
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A") return true;
    }
  }
  return false;
}

/**
 * Whether the unix socket at `path` is listening, from the process's own view
 * of its network namespace (`/proc/<pid>/net/unix`, flag __SO_ACCEPTCON).
 * socat binds (and so creates the file) before it listens: a connect between
 * the two is refused, so the file appearing is not enough.
 */
function isListeningUnix(pid: number, path: string): boolean {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/net/unix`, "utf8");
  } catch {
    return false;
  }
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[7] === path && (parseInt(cols[3] ?? "0", 16) & 0x10000) !== 0) return true;
  }
  return false;
}

async function waitForSocket(path: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + SOCKET_WAIT_MS;
  for (;;) {
    try {
      if (statSync(path).isSocket() && child.pid !== undefined && isListeningUnix(child.pid, path)) return;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the forwarder exited (${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) throw new Error(`the forwarder did not open its socket within ${SOCKET_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
