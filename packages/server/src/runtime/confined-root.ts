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
import { loadNative, O_PATH, RESOLVE_NO_XDEV, type ConfinedOpened } from "@nimbus/native";

export type { ConfinedOpened, ConfinedFileType } from "@nimbus/native";

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

  unlink(name: string): Promise<void> {
    return native.unlinkat(this.fd, name, 0);
  }

  mkdir(name: string, modeBits: number): Promise<void> {
    return native.mkdirat(this.fd, name, modeBits);
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
