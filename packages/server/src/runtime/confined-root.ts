/**
 * A tree the server does not trust (a sandbox's root filesystem, an image
 * layer), opened once as a directory fd; every path below it is resolved by
 * the kernel with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from that
 * fd (@nimbus/native, src/confined.c). Symlinks, `..` and components swapped
 * while we work all stay inside the root, because the kernel, not our code,
 * walks the path. Names passed to the *at operations of a `ConfinedDir` are
 * single components of a directory that was resolved the same way.
 *
 * This is the one resolver for host-side work on tenant trees: the files
 * channel, the image's /etc/passwd, and later list/stat/mkdir/rm/rename/tar.
 * Errors are errno errors (`code` ENOENT, ELOOP, EXDEV, ...); callers translate.
 */
import { closeSync, constants } from "node:fs";
import { readdir } from "node:fs/promises";
import { loadNative, AT_REMOVEDIR, O_PATH, RESOLVE_NO_XDEV, type ConfinedOpened, type ConfinedStat } from "@nimbus/native";

export type { ConfinedOpened, ConfinedFileType, ConfinedStat } from "@nimbus/native";

const native = loadNative();

export interface ConfinedRootOptions {
  /**
   * Refuse to cross a mount point below the root (RESOLVE_NO_XDEV). A sandbox
   * root seen from the host is one overlay mount, so anything mounted below it
   * is not the sandbox's own file tree.
   * @default true
   */
  noXdev?: boolean;
}

/** A directory inside a confined root, held open (O_PATH) for *at operations. */
export class ConfinedDir {
  private closed = false;
  constructor(readonly fd: number) {}

  /** Creates `name` exclusively (never through an existing name or symlink); resolves with an fd open for writing. */
  createExclusive(name: string, modeBits: number): Promise<number> {
    assertName(name);
    return native.openat2(this.fd, name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, modeBits & 0o777, 0);
  }

  /** Renames `from` to `to`, both single components of this directory (replacing `to` if it is not a directory). */
  rename(from: string, to: string): Promise<void> {
    return native.renameat(this.fd, from, this.fd, to);
  }

  /** Moves `from` of this directory to `to` of `target` (another confined directory). */
  renameTo(from: string, target: ConfinedDir, to: string): Promise<void> {
    return native.renameat(this.fd, from, target.fd, to);
  }

  unlink(name: string): Promise<void> {
    return native.unlinkat(this.fd, name, 0);
  }

  mkdir(name: string, modeBits: number): Promise<void> {
    return native.mkdirat(this.fd, name, modeBits);
  }

  /** Removes the empty directory `name`. */
  rmdir(name: string): Promise<void> {
    return native.unlinkat(this.fd, name, AT_REMOVEDIR);
  }

  /** Creates the symlink `name` holding `target` as text (the server never follows it). */
  symlink(target: string, name: string): Promise<void> {
    return native.symlinkat(target, this.fd, name);
  }

  /** What `name` is, not following it if it is a symlink. */
  lstat(name: string): Promise<ConfinedStat> {
    assertName(name);
    return native.lstat(this.fd, name, 0);
  }

  /** The subdirectory `name`, held open; a symlink there is refused (ELOOP/ENOTDIR), never followed. */
  async openChild(name: string): Promise<ConfinedDir> {
    assertName(name);
    return new ConfinedDir(await native.openat2(this.fd, name, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW, 0, 0));
  }

  /** The directory `rel` below this one (resolved with this one as its root; a final symlink refused), held open. */
  async openDirPath(rel: string): Promise<ConfinedDir> {
    return new ConfinedDir(await native.openat2(this.fd, rel, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW, 0, 0));
  }

  /** The directory itself opened for reading (not O_PATH), for fchown/fchmod of this very inode. */
  openForMetadata(): Promise<number> {
    return native.openat2(this.fd, ".", constants.O_RDONLY | constants.O_DIRECTORY, 0, 0);
  }

  /**
   * Opens `rel` (a relative path resolved with this directory as its root, so
   * nothing leads above it; a final symlink not followed) for reading if it
   * is a regular file; fd -1 otherwise.
   */
  openRegularPath(rel: string): Promise<ConfinedOpened> {
    return native.openRegular(this.fd, rel, constants.O_RDONLY | constants.O_NOFOLLOW, 0);
  }

  /** Opens `name` for reading if it is a regular file (not following a symlink); fd -1 otherwise. */
  openRegular(name: string): Promise<ConfinedOpened> {
    assertName(name);
    return native.openRegular(this.fd, name, constants.O_RDONLY | constants.O_NOFOLLOW, 0);
  }

  /** The entries of this directory (read through the fd's magic link, which names exactly this inode). */
  list(): Promise<import("node:fs").Dirent[]> {
    return readdir(`/proc/self/fd/${this.fd}`, { withFileTypes: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

export class ConfinedRoot {
  private closed = false;
  private constructor(
    readonly fd: number,
    private readonly resolveFlags: number,
  ) {}

  /** Opens `hostPath` (a path the server chose, never tenant input) as the root. */
  static open(hostPath: string, options: ConfinedRootOptions = {}): ConfinedRoot {
    return new ConfinedRoot(native.openRoot(hostPath), options.noXdev === false ? 0 : RESOLVE_NO_XDEV);
  }

  /**
   * Opens `path` for reading if, after resolution inside the root (a final
   * symlink followed, inside the root), it is a regular file; otherwise `fd`
   * is -1 and nothing was opened (a FIFO, socket or device never is).
   */
  openRegular(path: string, flags = constants.O_RDONLY): Promise<ConfinedOpened> {
    return native.openRegular(this.fd, path, flags, this.resolveFlags);
  }

  /** openRegular without the thread pool: for small, bounded reads on the launch path. */
  openRegularSync(path: string, flags = constants.O_RDONLY): ConfinedOpened {
    return native.openRegularSync(this.fd, path, flags, this.resolveFlags);
  }

  /** What `path` is (resolved inside the root; a final symlink is reported, not followed). */
  lstat(path: string): Promise<ConfinedStat> {
    return native.lstat(this.fd, path, this.resolveFlags);
  }

  /** The directory at `path` (resolved inside the root, symlinks included), held open. */
  async openDir(path: string): Promise<ConfinedDir> {
    const fd = await native.openat2(this.fd, path, O_PATH | constants.O_DIRECTORY, 0, this.resolveFlags);
    return new ConfinedDir(fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function assertName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new TypeError(`\`${name}\` is not a single path component`);
  }
}
