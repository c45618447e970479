/**
 * Channel attach (ext) over the NDJSON pair: output frames come from
 * `GET /api/sessions/{id}/channels/{channel}/stream` (base64 encoded, with a
 * byte cursor); input goes to `POST …/input`, one request per write, in order.
 */
import { Readable, Writable } from "node:stream";
import type { NimbusError } from "./errors.js";
import { readNdjson } from "./ndjson.js";
import { apiPath, type Transport } from "./transport.js";
import type { ChannelFrame } from "./types/session.js";

/**
 * How an attachment ended. `code` is the process's exit code when an `exit`
 * frame arrived; otherwise null with a `reason` (the server's `closed`
 * reason such as `expired`, or `client_closed`, `disconnected`, `error`).
 *
 * @example
 * const { code, reason } = await attachment.exit;
 */
export interface ChannelExit {
  code: number | null;
  reason?: string;
  /** The failure, when `reason` is `error`. */
  error?: NimbusError | Error;
}

/**
 * An attached channel: a duplex byte stream with an exit status. Output is
 * buffered in memory until read.
 *
 * @example
 * const a = await nimbus.sessions.attach({ id, channel: "stdio" });
 * a.stdin.write("echo hi\n");
 * for await (const chunk of a.stdout) process.stdout.write(chunk);
 */
export interface Attachment {
  /** Writes become input requests, sent in order; `end()` sends EOF. */
  readonly stdin: Writable;
  /** Output bytes (Buffers); ends when the channel ends. */
  readonly stdout: Readable;
  /** Error output bytes (Buffers); ends when the channel ends. */
  readonly stderr: Readable;
  /** Resolves on the `exit` or `closed` frame, a disconnect, or `close()`; never rejects. */
  readonly exit: Promise<ChannelExit>;
  /** Byte offset after the last output seen; pass it as `cursor` to resume. */
  readonly cursor: number | undefined;
  /** Detaches: stops reading output and discards pending input. The process keeps running. */
  close(): Promise<void>;
}

/** Where to attach. */
interface AttachTarget {
  tenantId: string;
  id: string;
  channel: string;
  cursor?: number;
  signal?: AbortSignal;
}

/**
 * Opens the output stream and returns the attachment once the server has
 * accepted it (a closed session or missing channel throws here).
 *
 * @example
 * const a = await attachChannel(nimbus, { tenantId: "demo", id, channel: "stdio" });
 */
export async function attachChannel(t: Transport, target: AttachTarget): Promise<Attachment> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(target.signal?.reason);
  if (target.signal?.aborted) onAbort();
  target.signal?.addEventListener("abort", onAbort, { once: true });
  const res = await t.send({
    method: "GET",
    path: apiPath`/api/sessions/${target.id}/channels/${target.channel}/stream`,
    query: { tenantId: target.tenantId, encoding: "base64", cursor: target.cursor },
    accept: "application/x-ndjson",
    signal: ac.signal,
  });
  return new ChannelAttachment(t, target, res, ac);
}

class ChannelAttachment implements Attachment {
  readonly stdout = new Readable({ read() {} });
  readonly stderr = new Readable({ read() {} });
  readonly stdin: Writable;
  readonly exit: Promise<ChannelExit>;
  #cursor: number | undefined;
  #settle!: (exit: ChannelExit) => void;
  readonly #pumping: Promise<void>;

  constructor(
    private readonly t: Transport,
    private readonly target: AttachTarget,
    res: Response,
    private readonly ac: AbortController,
  ) {
    this.#cursor = target.cursor;
    this.exit = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.#input(chunk).then(() => cb(), cb);
      },
      writev: (chunks, cb) => {
        this.#input(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => cb(), cb);
      },
      final: (cb) => {
        this.#post({ eof: true }).then(() => cb(), cb);
      },
    });
    this.#pumping = this.#pump(res);
  }

  get cursor(): number | undefined {
    return this.#cursor;
  }

  async close(): Promise<void> {
    this.ac.abort();
    this.stdin.destroy();
    await this.#pumping;
  }

  #input(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return Promise.resolve();
    return this.#post({ data: bytes.toString("base64"), encoding: "base64" });
  }

  async #post(json: Record<string, unknown>): Promise<void> {
    const { tenantId, id, channel } = this.target;
    await this.t.request({
      method: "POST",
      path: apiPath`/api/sessions/${id}/channels/${channel}/input`,
      query: { tenantId },
      json,
      signal: this.ac.signal,
    });
  }

  async #pump(res: Response): Promise<void> {
    let ended: ChannelExit = { code: null, reason: "disconnected" };
    try {
      for await (const frame of readNdjson<ChannelFrame>(res)) {
        if (frame.kind === "stdout" || frame.kind === "stderr") {
          (frame.kind === "stdout" ? this.stdout : this.stderr).push(Buffer.from(frame.data, "base64"));
          if (typeof frame.cursor === "number") this.#cursor = frame.cursor;
        } else if (frame.kind === "opened") {
          if (typeof frame.cursor === "number") this.#cursor = frame.cursor;
        } else if (frame.kind === "gap") {
          // The bytes in [from, to) are gone from the server's log; resuming goes on after them.
          this.#cursor = frame.to;
        } else if (frame.kind === "exit") {
          ended = { code: frame.code ?? null };
          break;
        } else if (frame.kind === "closed") {
          ended = { code: null, reason: frame.reason };
          break;
        }
      }
    } catch (err) {
      ended = this.ac.signal.aborted ? { code: null, reason: "client_closed" } : { code: null, reason: "error", error: err as Error };
    } finally {
      this.stdout.push(null);
      this.stderr.push(null);
      this.#settle(ended);
    }
  }
}
