// runtime/container/attach.ts — a client of conmon's attach socket (SOCK_SEQPACKET).
// conmon sends each chunk it read from the container as one packet whose first byte
// names the pipe (2 = stdout, 3 = stderr); everything we send is written to the
// container's stdin as is. One packet is read by conmon with a 32 KiB buffer, so
// input goes out in smaller packets. The socket path can be longer than sun_path's
// 108 bytes, so we connect through /proc/self/fd/<dir fd>/attach, as podman does.
// conmon closes every attached socket after draining the container's output and
// before it writes the exit file: `end` means "all output has been delivered".
// The socket is read by packages/native (seqpacket.ts): every packet queued at a
// wake-up in one call, instead of one JavaScript call and one buffer per 8 KiB.
//
// What conmon 2.1.x does with this socket (source: containers/conmon v2.1.6, the
// version Debian 12 ships):
// - Slow client: conmon accept()s without SOCK_NONBLOCK (conn_sock.c:350), so each
//   client socket blocks, and write_all() (utils.c:72, called at conn_sock.c:339)
//   waits until the client reads. conmon is single-threaded: while one client lags,
//   the log, every other client and stdin wait, and the container blocks on its
//   full stdout pipe. Nothing is dropped. Hence pause() is real backpressure, and a
//   client that never reads must not hold the hub for long (stdio-channel.ts).
// - stdin EOF: the only place conmon closes the container's stdin is
//   terminate_remote_sock() (conn_sock.c:432-446), run when *any* attach client's
//   socket reads end-of-file (conn_sock.c:402-403: a shutdown(SHUT_WR), a close, a
//   zero-length packet, or the client process dying) or hangs up (conn_sock.c:380),
//   and only when --leave-stdin-open is not given (conn_sock.c:438). There is no
//   other message, ctl-fifo command or packet that closes it. So EOF is deliverable
//   only without --leave-stdin-open, and then the hub's own connection ending — a
//   server restart, crash or shutdown — closes stdin too, and a `cat` sandbox
//   exits with the server. Sandboxes must outlive the server, so conmon runs with
//   --leave-stdin-open and stdin EOF is not delivered (eofDelivered: false).

import { closeSync, constants, openSync } from "node:fs";
import { basename, dirname } from "node:path";
import { SeqpacketSocket } from "./seqpacket.js";

export type StdPipe = "stdout" | "stderr";

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

/** Connects to conmon's attach socket; rejects when nothing listens there. */
export async function connectAttach(socketPath: string, handlers: AttachHandlers): Promise<AttachConnection> {
  const dirFd = openSync(dirname(socketPath), constants.O_RDONLY | constants.O_DIRECTORY);
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    sock.close();
    handlers.end();
  };
  let sock: SeqpacketSocket;
  try {
    sock = SeqpacketSocket.connect(`/proc/self/fd/${dirFd}/${basename(socketPath)}`, {
      data(pipeByte, data) {
        const pipe = PIPE_NAMES[pipeByte];
        if (pipe && !ended) handlers.output(pipe, data);
      },
      end: finish,
    });
  } finally {
    closeSync(dirFd);
  }
  let chain = Promise.resolve();
  return {
    write(data) {
      const next = chain.then(async () => {
        for (let off = 0; off < data.length; off += MAX_INPUT_PACKET) await sock.send(data.subarray(off, off + MAX_INPUT_PACKET));
      });
      chain = next.catch(() => undefined);
      return next;
    },
    pause(paused) {
      sock.pause(paused);
    },
    close() {
      if (ended) return;
      ended = true;
      sock.close();
    },
    get closed() {
      return ended || sock.closed;
    },
  };
}
