// runtime/container/attach.ts — a client of conmon's attach socket (SOCK_SEQPACKET).
// conmon sends each chunk it read from the container as one packet whose first byte
// names the pipe (2 = stdout, 3 = stderr); everything we send is written to the
// container's stdin as is. One packet is read by conmon with a 32 KiB buffer, so
// input goes out in smaller packets. The socket path can be longer than sun_path's
// 108 bytes, so we connect through /proc/self/fd/<dir fd>/attach, as podman does.
// conmon closes every attached socket after draining the container's output and
// before it writes the exit file: `end` means "all output has been delivered".

import { closeSync, constants, openSync } from "node:fs";
import { basename, dirname } from "node:path";
import { SeqpacketSocket } from "node-unix-socket";

export type StdPipe = "stdout" | "stderr";

/** conmon reads one packet into a 32768-byte buffer and keeps the first 32767 bytes. */
export const MAX_INPUT_PACKET = 16 * 1024;

export interface AttachHandlers {
  output(pipe: StdPipe, data: Buffer): void;
  /** conmon closed the socket: the container's output is complete (or conmon died). */
  end(): void;
}

export interface AttachConnection {
  /** Sends bytes to the container's stdin; resolves once they are handed to the kernel. */
  write(data: Buffer): Promise<void>;
  /** Closes our side. The container keeps running and its stdin stays open. */
  close(): void;
  readonly closed: boolean;
}

/** conmon sends at most 8192 bytes of output plus the pipe byte per packet; a larger packet would be cut. */
const READ_BUFFER_BYTES = 16 * 1024;

const PIPE_NAMES: Record<number, StdPipe | undefined> = { 2: "stdout", 3: "stderr" };

/** Connects to conmon's attach socket; rejects when nothing listens there. */
export function connectAttach(socketPath: string, handlers: AttachHandlers): Promise<AttachConnection> {
  return new Promise((resolve, reject) => {
    let dirFd: number;
    try {
      dirFd = openSync(dirname(socketPath), constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      reject(err);
      return;
    }
    const sock = new SeqpacketSocket();
    // The binding allocates a zeroed buffer of this size for every packet; conmon's are at most 8193 bytes.
    sock.setInternalReadBufferSize(READ_BUFFER_BYTES);
    let connected = false;
    let closed = false;
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      closed = true;
      handlers.end();
    };
    sock.on("data", (buf: Buffer) => {
      if (buf.length < 1) return;
      const pipe = PIPE_NAMES[buf[0]!];
      if (pipe && buf.length > 1) handlers.output(pipe, buf.subarray(1));
    });
    sock.on("end", () => {
      finish();
      sock.destroy();
    });
    sock.on("error", (err: Error) => {
      if (!connected) {
        connected = true;
        closeSync(dirFd);
        reject(err);
        return;
      }
      finish();
    });
    sock.on("close", finish);
    try {
      sock.connect(`/proc/self/fd/${dirFd}/${basename(socketPath)}`, () => {
        if (connected) return;
        connected = true;
        closeSync(dirFd);
        resolve(conn);
      });
    } catch (err) {
      closeSync(dirFd);
      reject(err);
      return;
    }
    let chain = Promise.resolve();
    const conn: AttachConnection = {
      write(data) {
        const sendOne = (slice: Buffer) =>
          new Promise<void>((res, rej) => {
            if (closed) return rej(new Error("the attach socket is closed"));
            try {
              sock.write(slice, 0, slice.length, () => res());
            } catch (err) {
              rej(err as Error);
            }
          });
        const next = chain.then(async () => {
          for (let off = 0; off < data.length; off += MAX_INPUT_PACKET) await sendOne(data.subarray(off, off + MAX_INPUT_PACKET));
        });
        chain = next.catch(() => undefined);
        return next;
      },
      close() {
        if (closed) return;
        closed = true;
        ended = true;
        sock.destroy();
      },
      get closed() {
        return closed;
      },
    };
  });
}
