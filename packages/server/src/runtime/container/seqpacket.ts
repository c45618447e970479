// runtime/container/seqpacket.ts — the native SOCK_SEQPACKET client
// (packages/native/src/seqpacket.c) behind a small class: packets in as batches
// per pipe byte, packets out in order through a queue that waits while the
// socket is full, and pause/resume so a slow consumer pushes back on the sender.
import { constants } from "node:os";
import { loadNative, type NimbusNative, type SeqpacketHandle } from "@nimbus/native";

type Handle = SeqpacketHandle;
/** The functions packages/native/src/seqpacket.c adds to the binding. */
type SeqpacketBinding = Pick<
  NimbusNative,
  "seqpacketConnect" | "seqpacketSend" | "seqpacketWantWrite" | "seqpacketPause" | "seqpacketShutdownRead" | "seqpacketClose"
>;

export interface SeqpacketEvents {
  /** A run of packets that began with the same first byte (`pipe`), that byte removed from each. */
  data(pipe: number, data: Buffer): void;
  /** The peer closed (err null) or the socket failed. Not called after close(). */
  end(err: Error | null): void;
}

const EAGAIN = constants.errno.EAGAIN;

export class SeqpacketSocket {
  private readonly queue: Array<{ packet: Buffer; resolve(): void; reject(err: Error): void }> = [];
  private waitingWritable = false;
  private isClosed = false;

  private constructor(
    private readonly native: SeqpacketBinding,
    private readonly handle: Handle,
  ) {}

  /** Connects at once (a Unix socket does not wait); throws ENOENT/ECONNREFUSED/EAGAIN like connect(2). */
  static connect(path: string, events: SeqpacketEvents): SeqpacketSocket {
    const native: SeqpacketBinding = loadNative();
    let sock: SeqpacketSocket | undefined;
    const handle = native.seqpacketConnect(
      path,
      (pipe, data) => events.data(pipe, data),
      (err) => {
        sock?.failQueue(err ?? new Error("the peer closed the socket"));
        events.end(err);
      },
      () => sock?.pump(),
    );
    sock = new SeqpacketSocket(native, handle);
    return sock;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends one packet after every earlier one; resolves once the kernel has it. */
  send(packet: Buffer): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error("the socket is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ packet, resolve, reject });
      if (this.queue.length === 1) this.pump();
    });
  }

  /** Stops (true) or restarts (false) reading; the sender blocks once its buffer is full. */
  pause(paused: boolean): void {
    if (!this.isClosed) this.native.seqpacketPause(this.handle, paused);
  }

  /**
   * shutdown(SHUT_RD), and no more reading: the peer's writes to us fail (EPIPE)
   * from now on; we can still send. No `end` event follows from this.
   */
  shutdownRead(): void {
    if (!this.isClosed) this.native.seqpacketShutdownRead(this.handle);
  }

  /** Closes the socket; no event follows. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.native.seqpacketClose(this.handle);
    this.failQueue(new Error("the socket is closed"));
  }

  private pump(): void {
    this.waitingWritable = false;
    while (this.queue.length > 0 && !this.isClosed) {
      const next = this.queue[0]!;
      const n = this.native.seqpacketSend(this.handle, next.packet);
      if (n === -EAGAIN) {
        if (!this.waitingWritable) this.native.seqpacketWantWrite(this.handle);
        this.waitingWritable = true;
        return;
      }
      this.queue.shift();
      if (n < 0) {
        const err = Object.assign(new Error(`send on the seqpacket socket failed (errno ${-n})`), { errno: n });
        next.reject(err);
        this.failQueue(err);
        return;
      }
      next.resolve();
    }
  }

  private failQueue(err: Error): void {
    for (const q of this.queue.splice(0)) q.reject(err);
  }
}
