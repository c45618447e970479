/**
 * `watch` of the files API (issue 18): inotify events of a directory of a
 * ready sandbox, optionally recursive, through runtime/confined-watch.ts
 * (watches added on confined fds, never on host paths). inotify instances
 * are a host-wide resource (fs.inotify.max_user_instances, 128 by default,
 * shared with the server's own log watching), so watches are capped per
 * tenant and in total, and each watch is capped in directories and depth.
 */
import type { ConfinedDir } from "../runtime/confined-root.js";
import { ConfinedWatch, type WatchEventKind } from "../runtime/confined-watch.js";
import { AppError } from "./errors.js";
import type { SandboxFiles } from "./sandbox-files.js";
import { normalizePath } from "./sandbox-tree.js";

/** Open watches one tenant may hold at once. */
export const MAX_WATCHES_PER_TENANT = 4;
/** Open watches of the whole server. */
export const MAX_WATCHES_TOTAL = 32;
/** Directories one recursive watch covers (an `overflow` event says when more exist). */
export const MAX_WATCHED_DIRS = 1024;
export const MAX_WATCH_DEPTH = 32;
const POLL_MS = 100;
/** How often a watch checks that its sandbox is still ready (its held fd would otherwise keep a stopped sandbox's root mounted). */
const ALIVE_CHECK_MS = 500;

export interface FileWatchEvent {
  type: WatchEventKind;
  /** Absolute path inside the sandbox. */
  path: string;
  directory: boolean;
}

export interface OpenWatch {
  close(): void;
}

export class SandboxWatches {
  private readonly perTenant = new Map<string, number>();
  private total = 0;

  constructor(private readonly files: SandboxFiles) {}

  async open(
    tenantId: string,
    sandboxId: string,
    rawPath: string,
    options: { recursive: boolean; alive(): boolean; onEvent(e: FileWatchEvent): void; onEnd(reason: string): void },
  ): Promise<OpenWatch> {
    const path = normalizePath(rawPath);
    const mine = this.perTenant.get(tenantId) ?? 0;
    if (mine >= MAX_WATCHES_PER_TENANT || this.total >= MAX_WATCHES_TOTAL) {
      const limit = mine >= MAX_WATCHES_PER_TENANT ? MAX_WATCHES_PER_TENANT : MAX_WATCHES_TOTAL;
      throw new AppError("rate.resource_exhausted", `too many open file watches (limit ${limit}); close one first`, {
        detail: { resource: "file_watches", limit },
      });
    }
    this.perTenant.set(tenantId, mine + 1);
    this.total++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perTenant.get(tenantId) ?? 1) - 1;
      if (left === 0) this.perTenant.delete(tenantId);
      else this.perTenant.set(tenantId, left);
    };
    let top: ConfinedDir;
    try {
      top = await this.files.openDirectory(tenantId, sandboxId, path);
    } catch (err) {
      release();
      throw err;
    }
    const prefix = path === "/" ? "" : path;
    let aliveTimer: NodeJS.Timeout | undefined;
    try {
      const watch = await ConfinedWatch.open(top, {
        recursive: options.recursive,
        maxDirs: MAX_WATCHED_DIRS,
        maxDepth: MAX_WATCH_DEPTH,
        pollMs: POLL_MS,
        onEvent: (e) => options.onEvent({ type: e.kind, path: e.rel === "" ? path : `${prefix}/${e.rel}`, directory: e.directory }),
        onEnd: (reason) => {
          clearInterval(aliveTimer);
          release();
          options.onEnd(reason);
        },
      });
      aliveTimer = setInterval(() => {
        if (!options.alive()) watch.close("the sandbox is no longer ready");
      }, ALIVE_CHECK_MS);
      return { close: () => watch.close() };
    } catch (err) {
      top.close();
      release();
      throw err;
    }
  }
}
