// runtime/container/log-rotations.ts — takes each file conmon renames over a
// container's log the moment it appears, on a worker thread, and hands it to
// LogTail.
//
// Why a thread: conmon replaces its log every --log-size-max bytes, and LogTail
// must have the new file before conmon replaces it again, or that file is gone
// with its output. At full speed that is ~33 ms for a 10 MiB cap, and the main
// thread can be busy that long (collecting a fast stream's buffers, a run of
// WebSocket writes). The worker blocks in read(2) on an inotify descriptor
// that reports renames into the watched directories and nothing else
// (packages/native/src/inotify.c; fs.watch would wake it for every chunk
// conmon writes), so it runs at once and only then.
//
// The main thread adds and removes the watches (a descriptor belongs to the
// process) and tells the worker which log each watch is for through a port
// the worker reads synchronously after each wake-up. The worker hard-links
// the new file (`<log>.r<n>`, which keeps it whatever conmon does to the path)
// rather than opening it: Node closes every fd a worker opened when the worker
// ends, whoever holds it by then. The main thread opens and removes the link.
// A server that stops in between leaves its link behind; names restart at .r1
// in the next server, whose worker takes the stale link's place when it gets
// there (until then it costs one old file's worth of disk).
//
// Each rename onto the log's name is one replacement, and each one either hands a
// file over or reports one `lost`, never neither: a file skipped in silence leaves
// a client waiting for output that will never come (bench/session-io hung so). A
// worker late by a rename finds the next file at the path and takes it; the next
// rename then finds that same file again, and that is the missed one: `lost`. Two
// kernel behaviours would make a late worker skip one silently, and are countered:
// - inotify merges an event into the one before it while that one is unread and
//   identical (mask, watch, name; not the rename's cookie), so two renames onto
//   the log would arrive as one. The watch also asks for IN_MOVED_FROM: conmon
//   renames `<log>.tmp` in the same directory, so its MOVED_FROM comes between
//   two MOVED_TOs of the log and they are never merged;
// - link(2) answers ENOENT when the file was renamed over between its lookup and
//   the link: with a log still at the path, that file is gone, so `lost`.
import { closeSync, fstatSync, openSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname } from "node:path";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { loadNative } from "@nimbus/native";

export interface RotationEvents {
  /** The next file at the path, open for reading (the caller owns the fd), in the order conmon made them. */
  file(fd: number): void;
  /** A replacement was gone before the worker could take it. */
  lost(): void;
  /** The worker is gone: look for replacements yourself from now on. */
  unavailable(): void;
}

/** Where LogTail gets replacements from. */
export interface RotationSource {
  /** Watches `path` (whose file now is `ino`); returns the call that stops watching. */
  watch(path: string, ino: number, events: RotationEvents): () => void;
}

/** The functions packages/native/src/inotify.c adds to the binding. */
interface InotifyBinding {
  inotifyInit(): number;
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  inotifyRmWatch(fd: number, wd: number): void;
}

const IN_MOVED_FROM = 0x40;
const IN_MOVED_TO = 0x80;
const IN_Q_OVERFLOW = 0x4000;
const IN_ONLYDIR = 0x01000000;

type WorkerMessage = { wd: number; link: string } | { wd: number; lost: true };

// Plain JavaScript, evaluated by the worker: no file to resolve from src/ or dist/.
const WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require("node:worker_threads");
const { existsSync, readSync, linkSync, statSync, unlinkSync } = require("node:fs");
const { fd, port } = workerData;
const logs = new Map(); // wd -> { path, name, lastIno, takenByMain }
const buf = Buffer.alloc(64 * 1024);
const pause = new Int32Array(new SharedArrayBuffer(4));
let seq = 0;
let stopping = false;
function drainMessages() {
  for (let m; (m = receiveMessageOnPort(port)); ) {
    const msg = m.message;
    if (msg.stop) stopping = true;
    else if (msg.unwatch !== undefined) logs.delete(msg.unwatch);
    else logs.set(msg.wd, { path: msg.path, name: msg.name, lastIno: msg.ino, takenByMain: msg.takenByMain });
  }
}
/** Hard-links the file now at the log's path: "ok", "exists" (the link's name is taken), "gone" (no log), "failed". */
function linkNow(path, link) {
  try {
    linkSync(path, link);
    return "ok";
  } catch (err) {
    if (err.code === "EEXIST") return "exists";
    // link(2) answers ENOENT for an inode whose last name went between its lookup and
    // the link: conmon renamed a newer file over it meanwhile. With a log still there,
    // a file was replaced before it could be taken (or cannot be taken): say so.
    return existsSync(path) ? "failed" : "gone";
  }
}
/** One rename onto the log: hands the file at the path over, or reports one lost (with sure, finding the last file again means one was). */
function take(wd, log, sure = true) {
  const link = log.path + ".r" + ++seq;
  let linked = linkNow(log.path, link);
  if (linked === "exists") {
    // Left by a server that stopped between its worker's link and the removal: this
    // worker never repeats a name, so the link is stale. Taking its place keeps the new
    // file from being skipped (the tail would wait at the end of the old one for good).
    try {
      unlinkSync(link);
    } catch {
      /* gone meanwhile */
    }
    linked = linkNow(log.path, link);
  }
  if (linked === "gone") return; // removed with its bundle, not replaced
  if (linked !== "ok") return parentPort.postMessage({ wd, lost: true });
  const ino = statSync(link).ino;
  if (ino === log.lastIno) {
    unlinkSync(link);
    // The main thread took this file itself, between its watch and its message.
    if (log.takenByMain) log.takenByMain = false;
    else if (sure) parentPort.postMessage({ wd, lost: true });
    return;
  }
  log.lastIno = ino;
  parentPort.postMessage({ wd, link });
}
while (!stopping) {
  let n;
  try {
    n = readSync(fd, buf, 0, buf.length, null);
  } catch (err) {
    if (err.code === "EINTR" || err.code === "EAGAIN") continue;
    break;
  }
  drainMessages();
  for (let off = 0; off + 16 <= n; ) {
    const wd = buf.readInt32LE(off);
    const mask = buf.readUInt32LE(off + 4);
    const len = buf.readUInt32LE(off + 12);
    const name = buf.toString("utf8", off + 16, off + 16 + len).replace(/\\0+$/, "");
    off += 16 + len;
    if (mask & ${IN_Q_OVERFLOW}) {
      // The queue overflowed: renames may be missing from it. Take what is there and
      // report a loss, which may be one too many but is never one too few.
      for (const [w, l] of logs) {
        parentPort.postMessage({ wd: w, lost: true });
        take(w, l, false);
      }
      continue;
    }
    if (!(mask & ${IN_MOVED_TO})) continue;
    let log = logs.get(wd);
    // The watch is added before its message is posted: wait a moment for it.
    for (let i = 0; !log && i < 50 && !stopping; i++) {
      Atomics.wait(pause, 0, 0, 1);
      drainMessages();
      log = logs.get(wd);
    }
    if (log && name === log.name) take(wd, log);
  }
}
`;

/** One worker and one inotify descriptor for every log of this server. */
export class LogRotations implements RotationSource {
  private worker?: Worker;
  private port?: MessagePort;
  private fd?: number;
  private native?: InotifyBinding;
  /** Who waits for each watched directory's replacements. */
  private readonly byWd = new Map<number, Set<RotationEvents>>();
  private closed = false;
  private failed = false;

  /** Throws when the worker could not be started (or died): the caller then looks for itself. */
  watch(path: string, ino: number, events: RotationEvents): () => void {
    this.start();
    const native = this.native!;
    // IN_MOVED_FROM only to keep inotify from merging renames (see the header).
    const wd = native.inotifyAddWatch(this.fd!, dirname(path), IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR);
    // Replaced between the caller's open and the watch: hand that file over from here.
    // Its rename may also be queued for the worker, which must then neither take it
    // again nor call it lost: it is told which file was taken last.
    let newest = ino;
    try {
      if (statSync(path).ino !== ino) {
        const fd = openSync(path, "r");
        newest = fstatSync(fd).ino;
        events.file(fd);
      }
    } catch {
      /* the bundle is gone */
    }
    let subscribers = this.byWd.get(wd);
    if (!subscribers) {
      subscribers = new Set();
      this.byWd.set(wd, subscribers);
      this.port!.postMessage({ wd, path, name: basename(path), ino: newest, takenByMain: newest !== ino });
    }
    subscribers.add(events);
    return () => {
      const s = this.byWd.get(wd);
      if (!s?.delete(events) || s.size > 0) return;
      this.byWd.delete(wd);
      if (this.closed || this.failed) return;
      this.port!.postMessage({ unwatch: wd });
      native.inotifyRmWatch(this.fd!, wd); // IN_IGNORED wakes the worker, which reads the message
    };
  }

  /** Stops the worker (it wakes on the removal of its watches) and closes the descriptor. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker || this.failed) return this.closeFd();
    process.off("exit", this.stopWorker);
    const exited = new Promise<void>((r) => worker.once("exit", () => r()));
    this.stopWorker();
    await exited;
    this.closeFd();
  }

  /**
   * Asks the worker to end and wakes it from its read. Also run at process exit:
   * Node joins worker threads as it exits, and this one would otherwise sit in
   * read(2) until the next rename.
   */
  private readonly stopWorker = (): void => {
    this.port!.postMessage({ stop: true });
    for (const wd of this.byWd.keys()) this.native!.inotifyRmWatch(this.fd!, wd);
    this.byWd.clear();
    // With no watch left to remove, a watch made and removed at once wakes it.
    const wd = this.native!.inotifyAddWatch(this.fd!, "/", IN_MOVED_TO | IN_ONLYDIR);
    this.native!.inotifyRmWatch(this.fd!, wd);
  };

  private closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.port?.close();
  }

  /** Starts the worker now rather than at the first watch (it takes a few ms to boot); throws if it cannot. */
  start(): Worker {
    if (this.closed || this.failed) throw new Error("the log rotation worker is not running");
    if (this.worker) return this.worker;
    this.native = loadNative();
    this.fd = this.native.inotifyInit();
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { fd: this.fd, port: port2 }, transferList: [port2] });
    worker.on("message", (m: WorkerMessage) => {
      const subscribers = this.byWd.get(m.wd) ?? [];
      if (!("link" in m)) {
        for (const s of subscribers) s.lost();
        return;
      }
      for (const s of subscribers) {
        try {
          s.file(openSync(m.link, "r"));
        } catch {
          /* the bundle is gone */
        }
      }
      try {
        unlinkSync(m.link);
      } catch {
        /* likewise */
      }
    });
    const gone = () => {
      if (this.closed || this.failed) return;
      this.failed = true;
      process.off("exit", this.stopWorker);
      for (const subscribers of this.byWd.values()) for (const s of subscribers) s.unavailable();
      this.byWd.clear();
    };
    worker.on("error", gone);
    worker.on("exit", gone);
    worker.unref();
    port1.unref();
    this.worker = worker;
    this.port = port1;
    process.once("exit", this.stopWorker);
    return worker;
  }
}
