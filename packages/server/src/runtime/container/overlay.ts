// runtime/container/overlay.ts — the per-container overlayfs root.
// Owns mounting image layers (read-only, shared) under a per-container upper/work
// dir, and unmounting on delete. mount(2) takes at most one page of options, so
// with many or deep layer paths we mount through short relative symlinks
// (the trick containers/storage uses with its `l/` directory).

import { readFileSync } from "node:fs";
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
 * Unmounts the target while it is a mount point (mountinfo is read first, so
 * an idempotent delete costs no exec). A busy mount (a straggler still holding
 * a file) is detached lazily so delete never hangs.
 */
export async function unmountOverlay(target: string): Promise<void> {
  for (let attempt = 0; isMountPoint(target); attempt++) {
    const r = await runCommand("umount", attempt >= 3 ? ["-l", target] : [target]);
    if (r.code !== 0 && attempt >= 4) throw new Error(`unmounting ${target} failed: ${r.stderr.trim()}`);
    if (r.code !== 0) await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
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
