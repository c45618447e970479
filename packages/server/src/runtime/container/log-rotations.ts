// runtime/container/log-rotations.ts — opens each file conmon renames over a
// container's log the moment it appears, on a worker thread, and hands the
// open file to LogTail.
//
// Why a thread: conmon replaces its log every --log-size-max bytes, and LogTail
// must have the new file open before conmon replaces it again, or that file is
// gone with its output. At full speed that is ~33 ms for a 10 MiB cap, and the
// main thread can be busy that long (collecting a fast stream's buffers, a run
// of WebSocket writes). A worker that does nothing else is woken by inotify at
// once. File descriptors belong to the process, so the worker's fd serves the
// main thread as is.
//
// Each rename onto the log's name is one replacement. If the file found at the
// path is the one taken last, a replacement was missed in between: `lost`.
//
// The worker does not hand over an open fd: Node closes every fd a worker
// opened when the worker ends, whoever holds it by then (and the number may
// have been reused). It makes a hard link instead (`<log>.r<n>`, which keeps
// the file whatever conmon does to the path), and the main thread opens and
// removes that link.

import { openSync, unlinkSync } from "node:fs";
import { Worker } from "node:worker_threads";

export interface RotationEvents {
  /** The next file at the path, open for reading (the caller owns the fd), in the order conmon made them. */
  file(fd: number): void;
  /** A replacement was gone before the worker could open it. */
  lost(): void;
  /** The worker is gone: look for replacements yourself from now on. */
  unavailable(): void;
}

/** Where LogTail gets replacements from. */
export interface RotationSource {
  /** Watches `path` (whose file now is `ino`); returns the call that stops watching. */
  watch(path: string, ino: number, events: RotationEvents): () => void;
}

type WorkerMessage = { id: number; link: string } | { id: number; lost: true };

// Plain JavaScript, evaluated by the worker: no file to resolve from src/ or dist/.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { watch, linkSync, statSync, unlinkSync } = require("node:fs");
const { dirname, basename } = require("node:path");
const watches = new Map();
let seq = 0;
// Links the file now at the log's path and hands it over if it is a new one.
function take(m, w, missedIfSame) {
  const link = m.path + ".r" + ++seq;
  try {
    linkSync(m.path, link);
  } catch {
    return; // removed with its bundle, not replaced
  }
  const ino = statSync(link).ino;
  if (ino === w.lastIno) {
    unlinkSync(link);
    if (missedIfSame) parentPort.postMessage({ id: m.id, lost: true });
    return;
  }
  w.lastIno = ino;
  parentPort.postMessage({ id: m.id, link });
}
parentPort.on("message", (m) => {
  if (m.unwatch !== undefined) {
    watches.get(m.unwatch)?.watcher.close();
    watches.delete(m.unwatch);
    return;
  }
  const name = basename(m.path);
  const w = { lastIno: m.ino, watcher: undefined };
  try {
    w.watcher = watch(dirname(m.path), (event, file) => {
      if (event === "rename" && file === name) take(m, w, true);
    });
    w.watcher.on("error", () => undefined);
  } catch {
    return;
  }
  watches.set(m.id, w);
  take(m, w, false); // replaced between the caller's open and this watch
});
`;

/** One worker for every log of this server. */
export class LogRotations implements RotationSource {
  private worker?: Worker;
  private nextId = 1;
  private readonly subscribers = new Map<number, RotationEvents>();
  private closed = false;
  private failed = false;

  /** Throws when the worker could not be started (or died): the caller then looks for itself. */
  watch(path: string, ino: number, events: RotationEvents): () => void {
    const worker = this.start();
    const id = this.nextId++;
    this.subscribers.set(id, events);
    worker.postMessage({ id, path, ino });
    return () => {
      if (!this.subscribers.delete(id) || this.closed) return;
      worker.postMessage({ unwatch: id });
    };
  }

  /** Stops the worker. A link it made for a log nobody watches any more is removed on arrival. */
  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    await this.worker?.terminate();
  }

  /** Starts the worker now rather than at the first watch (it takes a few ms to boot). */
  start(): Worker {
    if (this.closed || this.failed) throw new Error("the log rotation worker is not running");
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on("message", (m: WorkerMessage) => {
      const s = this.subscribers.get(m.id);
      if (!("link" in m)) return s?.lost();
      let fd: number | undefined;
      try {
        if (s) fd = openSync(m.link, "r");
      } catch {
        /* the bundle is gone */
      }
      try {
        unlinkSync(m.link);
      } catch {
        /* likewise */
      }
      if (s && fd !== undefined) s.file(fd);
    });
    const gone = () => {
      if (this.closed || this.failed) return;
      this.failed = true;
      for (const s of this.subscribers.values()) s.unavailable();
      this.subscribers.clear();
    };
    worker.on("error", gone);
    worker.on("exit", gone);
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
