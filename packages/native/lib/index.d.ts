/** The result of reap() once the child has exited: one of the two is null. */
export interface ReapedStatus {
  exitCode: number | null;
  /** The terminating signal's number. */
  signal: number | null;
}

export interface NimbusNative {
  /**
   * mount(2) on the thread pool. Rejects with an Error whose `code` is the errno name.
   * With `signalFd`, the pool thread writes one byte to it as soon as the mount
   * succeeded (e.g. to release conmon), without waiting for the event loop.
   * `before` is done by the same thread first: `dirs` created with their parents
   * (existing ones are fine), `files` ([path, content, path, content, ...]) written, mode 0644.
   */
  mount(
    source: string,
    target: string,
    fstype: string,
    flags: number,
    data: string,
    signalFd?: number,
    before?: { dirs?: string[]; files?: string[] },
  ): Promise<void>;
  /** umount2(2) on the thread pool; flags e.g. MNT_DETACH. */
  umount(target: string, flags: number): Promise<void>;
  /**
   * posix_spawn (vfork-style, cost independent of the heap): fds[i] becomes the
   * child's fd i (-1 = /dev/null), all other fds are closed, signals are reset
   * to default and unblocked. Every fd must be >= fds.length. Returns the pid;
   * the caller must reap() it.
   */
  spawn(file: string, args: string[], env: string[], cwd: string, fds: number[], setsid: boolean): number;
  /**
   * spawn() on a pool thread, so the event loop never waits for the child to be
   * scheduled and exec. The fds must stay open until the promise settles.
   */
  spawnAsync(file: string, args: string[], env: string[], cwd: string, fds: number[], setsid: boolean): Promise<number>;
  /** A close-on-exec pipe: [readFd, writeFd]. */
  pipe(): [number, number];
  /** inotify_init1(IN_CLOEXEC): a blocking descriptor (read it on a thread that may block). */
  inotifyInit(): number;
  /** inotify_add_watch(2) with exactly `mask` (fs.watch cannot narrow it); returns the watch descriptor. */
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  /** inotify_rm_watch(2); a watch the kernel already dropped (its directory removed) is not an error. */
  inotifyRmWatch(fd: number, wd: number): void;
  /** A blocking waitpid on a pool thread: only for children that exit soon (each wait holds a thread). */
  wait(pid: number): Promise<ReapedStatus>;
  /** waitpid(pid, WNOHANG): null while it runs. Throws ECHILD when it is not our child. */
  reap(pid: number): ReapedStatus | null;
  /** The address a redirected TCP connection originally dialled (SO_ORIGINAL_DST on the accepted fd); throws ENOENT when not redirected. */
  getOriginalDst(fd: number): { family: 4 | 6; address: string; port: number };
}

/** The binding, or throws an Error (code NIMBUS_NATIVE_MISSING) naming the command that builds it. */
export function loadNative(): NimbusNative;
export const MNT_DETACH: number;
