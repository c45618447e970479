/**
 * inotify on a directory of a tree the server does not trust, without the
 * host kernel ever resolving a path in that tree.
 *
 * Why not fs.watch: it takes a host path, which the kernel resolves (and a
 * symlink swapped into the sandbox would send it to a host directory). Why
 * not inotify inside the sandbox's mount namespace: that needs a helper
 * process per watch in the sandbox (and a binary the image may not have).
 * Instead every watched directory is first opened confined (openat2
 * RESOLVE_IN_ROOT, children with O_NOFOLLOW: confined-root.ts) and the watch
 * is added on `/proc/self/fd/N` of that O_PATH fd: the magic link names
 * exactly the inode we resolved, so the watch sits on that directory whatever
 * the tree's names do afterwards. A directory created later is opened the
 * same way (relative to the watched top, O_NOFOLLOW), so a symlink is never
 * watched through.
 *
 * The inotify fd is non-blocking and drained by a timer with readSync (no
 * pool thread held, no blocking read on the event loop), so events arrive
 * within `pollMs`. Paths in events are relative to the top; after a watched
 * directory is renamed, events below it carry its old relative path.
 */
import { closeSync, readSync } from "node:fs";
import { loadNative } from "@nimbus/native";
import type { ConfinedDir } from "./confined-root.js";

const native = loadNative();

const IN_MODIFY = 0x2;
const IN_ATTRIB = 0x4;
const IN_CLOSE_WRITE = 0x8;
const IN_MOVED_FROM = 0x40;
const IN_MOVED_TO = 0x80;
const IN_CREATE = 0x100;
const IN_DELETE = 0x200;
const IN_DELETE_SELF = 0x400;
const IN_Q_OVERFLOW = 0x4000;
const IN_IGNORED = 0x8000;
const IN_ONLYDIR = 0x1000000;
const IN_ISDIR = 0x40000000;
const MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_ONLYDIR;
const HEADER_BYTES = 16;

export type WatchEventKind = "create" | "modify" | "write_closed" | "attrib" | "delete" | "moved_from" | "moved_to" | "overflow";

export interface WatchEvent {
  kind: WatchEventKind;
  /** Relative to the watched directory ("" for the directory itself). */
  rel: string;
  directory: boolean;
}

export interface ConfinedWatchOptions {
  recursive: boolean;
  /** Most directories watched at once; past it an `overflow` event says some are not. */
  maxDirs: number;
  /** Deepest level watched below the top. */
  maxDepth: number;
  pollMs: number;
  onEvent(e: WatchEvent): void;
  /** The top directory is gone (deleted, or its tree unmounted) or the watch was closed. */
  onEnd(reason: string): void;
}

const KINDS: Array<[number, WatchEventKind]> = [
  [IN_CREATE, "create"],
  [IN_DELETE, "delete"],
  [IN_MOVED_FROM, "moved_from"],
  [IN_MOVED_TO, "moved_to"],
  [IN_CLOSE_WRITE, "write_closed"],
  [IN_MODIFY, "modify"],
  [IN_ATTRIB, "attrib"],
];

function join(rel: string, name: string): string {
  return rel === "" ? name : `${rel}/${name}`;
}

export class ConfinedWatch {
  private readonly fd: number;
  private readonly dirs = new Map<number, string>();
  private topWd = -1;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private overflowed = false;
  private readonly buffer = Buffer.alloc(64 * 1024);

  private constructor(
    private readonly top: ConfinedDir,
    private readonly options: ConfinedWatchOptions,
  ) {
    this.fd = native.inotifyInit(true);
  }

  /** Watches `top` (and, recursively, the directories below it); takes ownership of `top`. */
  static async open(top: ConfinedDir, options: ConfinedWatchOptions): Promise<ConfinedWatch> {
    const w = new ConfinedWatch(top, options);
    try {
      w.topWd = w.add(top, "");
      if (options.recursive) await w.addBelow(top, "", 1);
      w.timer = setInterval(() => w.drain(), options.pollMs);
      return w;
    } catch (err) {
      w.close("failed");
      throw err;
    }
  }

  private add(dir: ConfinedDir, rel: string): number {
    if (this.dirs.size >= this.options.maxDirs) {
      if (!this.overflowed) this.options.onEvent({ kind: "overflow", rel, directory: true });
      this.overflowed = true;
      return -1;
    }
    const wd = native.inotifyAddWatch(this.fd, `/proc/self/fd/${dir.fd}`, MASK);
    this.dirs.set(wd, rel);
    return wd;
  }

  /** Watches the subdirectories of `dir` (held open by the caller), opened with O_NOFOLLOW. */
  private async addBelow(dir: ConfinedDir, rel: string, level: number): Promise<void> {
    if (level > this.options.maxDepth) return;
    for (const d of await dir.list()) {
      if (this.closed || !d.isDirectory()) continue;
      await this.addChild(dir, join(rel, d.name), d.name, level);
    }
  }

  private async addChild(parent: ConfinedDir, rel: string, name: string, level: number): Promise<void> {
    let child: ConfinedDir;
    try {
      child = await parent.openChild(name);
    } catch {
      return; // gone, or a symlink now: never watched through
    }
    try {
      if (this.closed || this.add(child, rel) < 0) return;
      await this.addBelow(child, rel, level + 1);
    } finally {
      child.close();
    }
  }

  /** A directory that appeared below a watched one: opened from the top (confined to it), never through a symlink. */
  private async watchNew(parentRel: string, name: string): Promise<void> {
    const level = parentRel === "" ? 1 : parentRel.split("/").length + 1;
    if (level > this.options.maxDepth) return;
    let parent: ConfinedDir;
    try {
      parent = parentRel === "" ? this.top : await this.top.openDirPath(parentRel);
    } catch {
      return;
    }
    try {
      await this.addChild(parent, join(parentRel, name), name, level);
    } finally {
      if (parent !== this.top) parent.close();
    }
  }

  private drain(): void {
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") return;
        this.close(`inotify read failed: ${(err as Error).message}`);
        return;
      }
      if (n <= 0) return;
      this.parse(n);
      if (this.closed) return;
    }
  }

  private parse(n: number): void {
    for (let off = 0; off + HEADER_BYTES <= n;) {
      const wd = this.buffer.readInt32LE(off);
      const mask = this.buffer.readUInt32LE(off + 4);
      const len = this.buffer.readUInt32LE(off + 12);
      const name = this.buffer.toString("utf8", off + HEADER_BYTES, off + HEADER_BYTES + len).replace(/\0+$/, "");
      off += HEADER_BYTES + len;
      if (mask & IN_Q_OVERFLOW) {
        this.options.onEvent({ kind: "overflow", rel: "", directory: true });
        continue;
      }
      const rel = this.dirs.get(wd);
      if (rel === undefined) continue;
      if (mask & IN_IGNORED) {
        this.dirs.delete(wd);
        if (wd === this.topWd) return this.close("the watched directory is gone");
        continue;
      }
      if (mask & IN_DELETE_SELF) continue; // the parent's IN_DELETE already said so
      const directory = (mask & IN_ISDIR) !== 0;
      for (const [bit, kind] of KINDS) {
        if (mask & bit) this.options.onEvent({ kind, rel: join(rel, name), directory });
      }
      if (this.options.recursive && directory && mask & (IN_CREATE | IN_MOVED_TO)) void this.watchNew(rel, name);
    }
  }

  close(reason = "closed"): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    closeSync(this.fd);
    this.top.close();
    this.options.onEnd(reason);
  }
}
