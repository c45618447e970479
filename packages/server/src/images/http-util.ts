/**
 * Small HTTP helpers for the registry client: a resettable deadline that
 * joins the caller's AbortSignal with an inactivity timeout, abortable
 * sleep, and loopback detection.
 */
import { ImageError } from "./errors.js";

export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ImageError("aborted", "the pull was cancelled"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ImageError("aborted", "the pull was cancelled"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Aborts `signal` when the outer signal aborts or `timeoutMs` pass without `reset()`. */
export class Deadline {
  private ctrl = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  signal: AbortSignal;
  timedOut = false;

  constructor(
    private readonly timeoutMs: number,
    readonly outer: AbortSignal | undefined,
  ) {
    this.signal = this.join();
    this.reset();
  }

  private join(): AbortSignal {
    return this.outer ? AbortSignal.any([this.outer, this.ctrl.signal]) : this.ctrl.signal;
  }

  /** Restarts the inactivity timer; after a timeout, arms a fresh signal for the next attempt. */
  reset(): void {
    this.pause();
    if (this.ctrl.signal.aborted) {
      this.ctrl = new AbortController();
      this.signal = this.join();
      this.timedOut = false;
    }
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.ctrl.abort();
    }, this.timeoutMs);
    this.timer.unref();
  }

  pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  clear(): void {
    this.pause();
  }

  /** Turns a fetch failure into an ImageError that says what happened. */
  explain(err: unknown, doing: string, registry: string): ImageError {
    if (err instanceof ImageError) return err;
    if (this.outer?.aborted) return new ImageError("aborted", "the pull was cancelled", { cause: err, registry });
    if (this.timedOut)
      return new ImageError("network", `timed out after ${this.timeoutMs} ms ${doing}; check the network or configure a mirror`, { cause: err, registry });
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    return new ImageError("network", `network error ${doing} (${detail}); check the network or configure a mirror`, { cause: err, registry });
  }
}
