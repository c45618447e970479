// runtime/container/attach.ts — clients of conmon's attach socket (SOCK_SEQPACKET).
// conmon sends each chunk it read from the container as one packet whose first byte
// names the pipe (2 = stdout, 3 = stderr); everything we send is written to the
// container's stdin as is. One packet is read by conmon with a 32 KiB buffer, so
// input goes out in smaller packets. The socket path can be longer than sun_path's
// 108 bytes, so we connect through /proc/self/fd/<dir fd>/attach, as podman does.
//
// The server does not read output here: conmon writes every chunk to its log
// first, and the stdio hub reads that file (log-tail.ts) in large blocks. Each
// reading client costs conmon one more system call per 8 KiB chunk, and on this
// kind of VM that call is what limits throughput (bench/session-io). So:
// - connectInput() is the hub's way to stdin. It shuts its read side, so conmon's
//   next write to it fails and conmon stops writing to it for good
//   (write_back_to_remote_consoles, conn_sock.c:332-342: shutdown(SHUT_WR) on a
//   failed write; conmon.c:57 ignores SIGPIPE). Sending still works.
// - connectHold() is backpressure: a connection nobody reads. conmon accept()s
//   without SOCK_NONBLOCK (conn_sock.c:350), so once the socket buffer (~200 KiB)
//   is full, write_all() (utils.c:72) blocks. conmon is single-threaded: the log
//   and stdin wait, and the container blocks on its full stdout pipe. Nothing is
//   dropped. Closing the connection makes the blocked write fail, and conmon
//   drops the socket and goes on.
// - connectAttach() reads output from the socket, as a second opinion for
//   bench/session-io. The socket is read by packages/native (seqpacket.ts): every
//   packet queued at a wake-up in one call, instead of one JavaScript call and one
//   buffer per 8 KiB. conmon closes every attached socket after draining the
//   container's output and before it writes the exit file.
//
// What conmon 2.1.x does about stdin EOF (source: containers/conmon v2.1.6, the
// version Debian 12 ships): the only place conmon closes the container's stdin is
// terminate_remote_sock() (conn_sock.c:432-446), run when *any* attach client's
// socket reads end-of-file (conn_sock.c:402-403: a shutdown(SHUT_WR), a close, a
// zero-length packet, or the client process dying) or hangs up (conn_sock.c:380),
// and only when --leave-stdin-open is not given (conn_sock.c:438). There is no
// other message, ctl-fifo command or packet that closes it. So EOF is deliverable
// only without --leave-stdin-open, and then the hub's own connection ending — a
// server restart, crash or shutdown — closes stdin too, and a `cat` sandbox
// exits with the server. Sandboxes must outlive the server, so conmon runs with
// --leave-stdin-open and stdin EOF is not delivered (eofDelivered: false).

import { closeSync, constants, openSync } from "node:fs";
import { basename, dirname } from "node:path";
import { SeqpacketSocket, type SeqpacketEvents } from "./seqpacket.js";

import type { StdPipe } from "./k8s-log.js";
export type { StdPipe };

/** conmon reads one packet into a 32768-byte buffer and keeps the first 32767 bytes. */
export const MAX_INPUT_PACKET = 16 * 1024;

export interface AttachHandlers {
  /** Output of one pipe, as many of conmon's packets as were queued, joined. */
  output(pipe: StdPipe, data: Buffer): void;
  /** conmon closed the socket: the container's output is complete (or conmon died). */
  end(): void;
}

export interface AttachConnection {
  /** Sends bytes to the container's stdin; resolves once they are handed to the kernel. */
  write(data: Buffer): Promise<void>;
  /**
   * Stops (true) or restarts reading output. While we do not read, conmon blocks
   * writing to this socket (it was accepted blocking), so the container blocks on
   * its stdout like on a full pipe, and conmon's log waits too.
   */
  pause(paused: boolean): void;
  /** Closes our side. The container keeps running and its stdin stays open. */
  close(): void;
  readonly closed: boolean;
}

const PIPE_NAMES: Record<number, StdPipe | undefined> = { 2: "stdout", 3: "stderr" };

/** The hub's way to the container's stdin (see the header). */
export interface AttachInput {
  /** Sends bytes to the container's stdin; resolves once they are handed to the kernel. */
  write(data: Buffer): Promise<void>;
  /** Closes our side. The container keeps running and its stdin stays open. */
  close(): void;
  readonly closed: boolean;
}

/** Connects for input only; conmon stops sending output to it at its next chunk. */
export function connectInput(socketPath: string): AttachInput {
  const sock = connectSocket(socketPath, { data: () => undefined, end: () => undefined });
  sock.shutdownRead();
  return {
    write: (data) => sendInOrder(sock, data),
    close: () => sock.close(),
    get closed() {
      return sock.closed;
    },
  };
}

/** A connection never read, so conmon blocks on it (see the header); close() lets conmon go on. */
export function connectHold(socketPath: string): { close(): void } {
  const sock = connectSocket(socketPath, { data: () => undefined, end: () => undefined });
  sock.pause(true);
  return { close: () => sock.close() };
}

/** Connects to conmon's attach socket and reads its output; rejects when nothing listens there. */
export async function connectAttach(socketPath: string, handlers: AttachHandlers): Promise<AttachConnection> {
  let ended = false;
  const sock = connectSocket(socketPath, {
    data(pipeByte, data) {
      const pipe = PIPE_NAMES[pipeByte];
      if (pipe && !ended) handlers.output(pipe, data);
    },
    end() {
      if (ended) return;
      ended = true;
      sock.close();
      handlers.end();
    },
  });
  return {
    write: (data) => sendInOrder(sock, data),
    pause(paused) {
      sock.pause(paused);
    },
    close() {
      ended = true;
      sock.close();
    },
    get closed() {
      return ended || sock.closed;
    },
  };
}

function connectSocket(socketPath: string, events: SeqpacketEvents): SeqpacketSocket {
  const dirFd = openSync(dirname(socketPath), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return SeqpacketSocket.connect(`/proc/self/fd/${dirFd}/${basename(socketPath)}`, events);
  } finally {
    closeSync(dirFd);
  }
}

/** Input in packets conmon reads whole; the socket's own queue keeps them in order. */
async function sendInOrder(sock: SeqpacketSocket, data: Buffer): Promise<void> {
  const sends: Array<Promise<void>> = [];
  for (let off = 0; off < data.length; off += MAX_INPUT_PACKET) sends.push(sock.send(data.subarray(off, off + MAX_INPUT_PACKET)));
  await Promise.all(sends);
}
