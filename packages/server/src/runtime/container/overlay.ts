// runtime/container/overlay.ts — the per-container overlayfs root.
// Owns mounting image layers (read-only, shared) under a per-container upper/work
// dir, and unmounting on delete. mount(2) takes at most one page of options, so
// with many or deep layer paths we mount through short relative symlinks
// (the trick containers/storage uses with its `l/` directory).

import { mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./exec.js";

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

/**
 * Mounts the overlay. An empty layer list gets one empty lower dir (overlayfs
 * needs at least one). Throws with mount's stderr on failure.
 */
export async function mountOverlay(lowerDirs: string[], paths: OverlayPaths): Promise<void> {
  await Promise.all([paths.target, paths.upperDir, paths.workDir].map((d) => mkdir(d, { recursive: true })));
  let lowers = lowerDirs;
  if (lowers.length === 0) {
    const empty = join(paths.linkDir, "empty");
    await mkdir(empty, { recursive: true });
    lowers = [empty];
  }
  let options = overlayOptions(lowers, paths.upperDir, paths.workDir);
  let cwd: string | undefined;
  if (Buffer.byteLength(options) > MAX_OPTION_BYTES) {
    // Relative paths are resolved against mount's cwd by the kernel at mount time.
    await mkdir(paths.linkDir, { recursive: true });
    await Promise.all(lowers.map((dir, i) => symlink(dir, join(paths.linkDir, i.toString(36)))));
    await Promise.all(
      // Upper case never collides with the base-36 lower names.
      [["U", paths.upperDir], ["W", paths.workDir]].map(([name, dir]) => symlink(dir!, join(paths.linkDir, name!))),
    );
    options = overlayOptions(lowers.map((_, i) => i.toString(36)), "U", "W");
    cwd = paths.linkDir;
    if (Buffer.byteLength(options) > MAX_OPTION_BYTES) {
      throw new Error(`too many image layers (${lowers.length}) for one overlay mount`);
    }
  }
  const r = await runCommand("mount", ["-t", "overlay", "overlay", "-o", options, paths.target], { cwd });
  if (cwd) await rm(paths.linkDir, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`mounting the overlay root failed: ${r.stderr.trim()}`);
}

/**
 * Unmounts the target if it is a mount point; tolerates "not mounted". A busy
 * mount (a straggler still holding a file) is detached lazily so delete never hangs.
 */
export async function unmountOverlay(target: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await runCommand("umount", [target]);
    if (r.code === 0) continue; // maybe stacked mounts; loop until "not mounted"
    if (/not mounted|no mount point|No such file/i.test(r.stderr)) return;
    if (/busy/i.test(r.stderr) && attempt >= 2) {
      await runCommand("umount", ["-l", target]);
      return;
    }
    await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
  }
}
