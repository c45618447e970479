/** The result of reap() once the child has exited: one of the two is null. */
export interface ReapedStatus {
  exitCode: number | null;
  /** The terminating signal's number. */
  signal: number | null;
}

declare const seqpacketHandleBrand: unique symbol;
/** An open SOCK_SEQPACKET connection (src/seqpacket.c); only the seqpacket functions take it. */
export type SeqpacketHandle = { readonly [seqpacketHandleBrand]: true };

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
  /**
   * Attaches the filesystem image to a free loop device with autoclear (it is
   * freed once unmounted) and mounts it, on the thread pool. Rejects with an
   * Error whose `code` is the errno name.
   */
  mountLoop(image: string, target: string, fstype: string, flags: number, data: string): Promise<void>;
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
  /** inotify_init1(IN_CLOEXEC): a blocking descriptor (read it on a thread that may block), or with IN_NONBLOCK (read it with readSync; EAGAIN when empty). */
  inotifyInit(nonblocking?: boolean): number;
  /** inotify_add_watch(2) with exactly `mask` (fs.watch cannot narrow it); returns the watch descriptor. */
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  /** inotify_rm_watch(2); a watch the kernel already dropped (its directory removed) is not an error. */
  inotifyRmWatch(fd: number, wd: number): void;

  // ---- SOCK_SEQPACKET client (src/seqpacket.c) ----

  /** Connects to a Unix SOCK_SEQPACKET socket; packets arrive in batches per first byte (`pipe`), that byte removed. */
  seqpacketConnect(path: string, onData: (pipe: number, data: Buffer) => void, onEnd: (err: Error | null) => void, onWritable: () => void): SeqpacketHandle;
  /** Bytes sent as one packet, or -errno. */
  seqpacketSend(h: SeqpacketHandle, data: Buffer): number;
  seqpacketWantWrite(h: SeqpacketHandle): void;
  seqpacketPause(h: SeqpacketHandle, paused: boolean): void;
  /** shutdown(SHUT_RD), and the socket is no longer polled for reading. */
  seqpacketShutdownRead(h: SeqpacketHandle): void;
  seqpacketClose(h: SeqpacketHandle): void;
  /** A blocking waitpid on a pool thread: only for children that exit soon (each wait holds a thread). */
  wait(pid: number): Promise<ReapedStatus>;
  /** waitpid(pid, WNOHANG): null while it runs. Throws ECHILD when it is not our child. */
  reap(pid: number): ReapedStatus | null;

  // ---- confined file operations (src/confined.c) ----
  // Every path is resolved by openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
  // (plus `resolve`, e.g. RESOLVE_NO_XDEV) relative to `dirFd`, which acts as `/`:
  // symlinks and `..` never lead out of it. Errors carry the errno name as `code`.

  /** open(path, O_PATH | O_DIRECTORY | O_CLOEXEC): the root fd of a tree (a trusted host path). */
  openRoot(path: string): number;
  /** openat2 on the thread pool; O_CLOEXEC is always added. Resolves with the fd. */
  openat2(dirFd: number, path: string, flags: number, mode: number, resolve: number): Promise<number>;
  openat2Sync(dirFd: number, path: string, flags: number, mode: number, resolve: number): number;
  /**
   * Resolves `path` with O_PATH (plus O_NOFOLLOW if given in `flags`), fstat()s it and reopens
   * only a regular file for I/O with `flags | O_NONBLOCK | O_NOCTTY`; anything else is
   * never opened (fd -1, `type` says what it is).
   */
  openRegular(dirFd: number, path: string, flags: number, resolve: number): Promise<ConfinedOpened>;
  openRegularSync(dirFd: number, path: string, flags: number, resolve: number): ConfinedOpened;
  /** mkdirat(2); `name` is one path component; mode is masked with 0o777. */
  mkdirat(dirFd: number, name: string, mode: number): Promise<void>;
  /** unlinkat(2); `name` is one path component; flags e.g. AT_REMOVEDIR (0x200). */
  unlinkat(dirFd: number, name: string, flags: number): Promise<void>;
  /** renameat(2) of single components relative to two (confined) directory fds. */
  renameat(oldDirFd: number, oldName: string, newDirFd: number, newName: string): Promise<void>;
  /** The target text of the symlink an O_PATH | O_NOFOLLOW fd names (readlinkat(fd, "")); nothing is followed. */
  readlinkFd(pathFd: number): Promise<string>;
  /** What `path` names (a final symlink not followed, its target read from the same fd); errors as openat2. */
  lstat(dirFd: number, path: string, resolve: number): Promise<ConfinedStat>;
  /** symlinkat(2): creates `name` (one component of `dirFd`) holding `target` as text; the target is never resolved here. */
  symlinkat(target: string, dirFd: number, name: string): Promise<void>;
  /** The address a redirected TCP connection originally dialled (SO_ORIGINAL_DST on the accepted fd); throws ENOENT when not redirected. */
  getOriginalDst(fd: number): { family: 4 | 6; address: string; port: number };
}

export type ConfinedFileType = "file" | "directory" | "symlink" | "fifo" | "socket" | "char-device" | "block-device" | "unknown";

export interface ConfinedOpened {
  /** An fd open for I/O when `type` is "file", else -1. */
  fd: number;
  type: ConfinedFileType;
  /** st_size: the apparent size (a sparse file counts in full). */
  sizeBytes: number;
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
}

export interface ConfinedStat extends Omit<ConfinedOpened, "fd"> {
  /** st_mtime in milliseconds since the epoch. */
  mtimeMs: number;
  /** For a symlink, its target as text. */
  linkTarget?: string;
}

/** The binding, or throws an Error (code NIMBUS_NATIVE_MISSING) naming the command that builds it. */
export function loadNative(): NimbusNative;
export const MNT_DETACH: number;
/** openat2 `resolve` flags callers may add (RESOLVE_IN_ROOT and RESOLVE_NO_MAGICLINKS are always on). */
export const RESOLVE_NO_XDEV: number;
export const RESOLVE_NO_SYMLINKS: number;
export const AT_REMOVEDIR: number;
/** O_PATH (Linux); Node's fs.constants lacks it. */
export const O_PATH: number;
