// runtime/container/overlay.ts — the per-container overlayfs root.
// Owns mounting image layers (read-only, shared) under a per-container upper/work
// dir, and unmounting on delete. mount(2) is called directly through
// @nimbus/native: exec'ing /bin/mount forked the whole server on the start path.
// mount(2) takes at most one page of options, so with many or deep layer paths
// we mount through short symlinks (the trick containers/storage uses with its
// `l/` directory), named through /proc/self/fd/<dir fd>/ because the mount runs
// on a pool thread and the process's cwd is not ours to change.

import { closeSync, constants, openSync, readFileSync } from "node:fs";
import { mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { MNT_DETACH, loadNative } from "@nimbus/native";

/** mount(2) copies at most PAGE_SIZE bytes of option data, including the NUL. */
const MAX_OPTION_BYTES = 4000;

export interface OverlayPaths {
  /** Where the merged root is mounted (the bundle's rootfs). */
  target: string;
  upperDir: string;
  workDir: string;
  /** Scratch dir for short layer links; only used for long option strings. */
  linkDir: string;
}

/** overlayfs wants the top-most layer first; our callers list them bottom first. */
export function overlayOptions(lowerDirs: string[], upperDir: string, workDir: string): string {
  const lower = [...lowerDirs].reverse().map(escapeOverlayPath).join(":");
  return `lowerdir=${lower},upperdir=${escapeOverlayPath(upperDir)},workdir=${escapeOverlayPath(workDir)}`;
}

/** ':' separates lower layers and ',' separates options; both must be escaped in paths. */
function escapeOverlayPath(p: string): string {
  return p.replace(/\\/g, "\\\\").replace(/:/g, "\\:").replace(/,/g, "\\,");
}

export interface MountOptions {
  /** Gets one byte as soon as the mount succeeded (see launchConmon). */
  signalFd?: number;
  /** [path, content] files written just before the mount (the bundle's config.json). */
  writeFirst?: Array<[string, string]>;
}

/**
 * Mounts the overlay. An empty layer list gets one empty lower dir (overlayfs
 * needs at least one). Throws with the errno name on failure.
 */
export async function mountOverlay(lowerDirs: string[], paths: OverlayPaths, opts: MountOptions = {}): Promise<void> {
  // The directories (their parent exists) and the caller's files are made by the
  // pool thread that mounts: no trip through the event loop between the steps.
  const dirs = [paths.target, paths.upperDir, paths.workDir];
  let lowers = lowerDirs;
  if (lowers.length === 0) {
    const empty = join(paths.linkDir, "empty");
    dirs.push(paths.linkDir, empty);
    lowers = [empty];
  }
  let options = overlayOptions(lowers, paths.upperDir, paths.workDir);
  let linkDirFd: number | undefined;
  try {
    if (Buffer.byteLength(options) > MAX_OPTION_BYTES) {
      // Rare (many or deep layers): the links are made here, before the mount.
      await Promise.all([...dirs, paths.linkDir].map((d) => mkdir(d, { recursive: true })));
      await Promise.all(lowers.map((dir, i) => symlink(dir, join(paths.linkDir, i.toString(36)))));
      await Promise.all(
        // Upper case never collides with the base-36 lower names.
        [
          ["U", paths.upperDir],
          ["W", paths.workDir],
        ].map(([name, dir]) => symlink(dir!, join(paths.linkDir, name!))),
      );
      linkDirFd = openSync(paths.linkDir, constants.O_RDONLY | constants.O_DIRECTORY);
      const via = (name: string) => `/proc/self/fd/${linkDirFd}/${name}`;
      options = overlayOptions(
        lowers.map((_, i) => via(i.toString(36))),
        via("U"),
        via("W"),
      );
      if (Buffer.byteLength(options) > MAX_OPTION_BYTES) {
        throw new Error(`too many image layers (${lowers.length}) for one overlay mount`);
      }
    }
    const files = (opts.writeFirst ?? []).flat();
    await loadNative().mount("overlay", paths.target, "overlay", 0, options, opts.signalFd ?? -1, { dirs, files });
  } catch (err) {
    throw new Error(`mounting the overlay root failed: ${(err as Error).message}`, { cause: err });
  } finally {
    if (linkDirFd !== undefined) {
      closeSync(linkDirFd);
      await rm(paths.linkDir, { recursive: true, force: true });
    }
  }
}

/**
 * Unmounts the target while it is a mount point (mountinfo is read first, so
 * an idempotent delete costs no syscall). A busy mount (a straggler still holding
 * a file) is detached lazily so delete never hangs.
 */
export async function unmountOverlay(target: string): Promise<void> {
  const native = loadNative();
  for (let attempt = 0; isMountPoint(target); attempt++) {
    try {
      await native.umount(target, attempt >= 3 ? MNT_DETACH : 0);
    } catch (err) {
      if (attempt >= 4) throw new Error(`unmounting ${target} failed: ${(err as Error).message}`, { cause: err });
      await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
    }
  }
}

function isMountPoint(target: string): boolean {
  return mountPointsUnder(target).includes(target);
}

/** Mount points at or below `dir`, from /proc/self/mountinfo (octal escapes decoded). */
export function mountPointsUnder(dir: string, mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const raw = line.split(" ")[4];
    if (!raw) continue;
    const mp = raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(dir + "/")) out.push(mp);
  }
  return out;
}
