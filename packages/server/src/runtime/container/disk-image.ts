// runtime/container/disk-image.ts — a container's writable layer on a filesystem of its own size.
// Owns diskLimitBytes (issue 15 finding 12): a sandbox with a limit gets a sparse
// ext4 image in its bundle, loop-mounted at `<bundle>/disk`, holding the overlay's
// upper and work dirs, so a write past the limit fails with ENOSPC in that sandbox
// only. Why not project quota on one shared filesystem: this kernel has neither
// XFS quota (CONFIG_XFS_QUOTA) nor ext4's quota format (CONFIG_QFMT_V2), and the
// data dir's ext4 is mounted without prjquota (docs/security.md, "Disk").
// The loop device is set up by @nimbus/native (no mount(8) process per create)
// with autoclear, so unmounting the image frees it; the mount outlives the server process, so a restarted server finds a
// live sandbox's limit still in place.

import { accessSync, constants, openSync, closeSync, ftruncateSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MIN_DISK_LIMIT_BYTES } from "../backend.js";
import { loadNative } from "@nimbus/native";
import { findBinary, runCommand } from "./exec.js";
import { unmountOverlay } from "./overlay.js";

/** mount(2) flags (linux/mount.h). */
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOATIME = 1024;

export type DiskLimitSupport = { enforced: true } | { enforced: false; reason: string };

/** Whether this host can make and mount the images: mkfs.ext4 and loop devices. */
export function diskLimitSupport(): DiskLimitSupport {
  if (!findBinary("mkfs.ext4")) return { enforced: false, reason: "mkfs.ext4 is not installed (apt-get install e2fsprogs)" };
  try {
    accessSync("/dev/loop-control", constants.R_OK | constants.W_OK);
  } catch {
    return { enforced: false, reason: "there are no loop devices (/dev/loop-control is missing or not writable)" };
  }
  return { enforced: true };
}

export interface DiskPaths {
  image: string;
  /** Where the image is mounted; upper/ and work/ go inside. */
  mountDir: string;
}

export function diskPaths(bundleDir: string): DiskPaths {
  return { image: join(bundleDir, "disk.img"), mountDir: join(bundleDir, "disk") };
}

/**
 * Makes the sparse image (its apparent size is the limit; blocks are used only
 * as the sandbox writes) and mounts it. No journal and no resize reserve keep
 * the metadata small; `noinit_itable` stops the kernel zeroing inode tables in
 * the background, which a sparse file reads as zeros anyway.
 */
export async function mountDiskImage(paths: DiskPaths, limitBytes: number): Promise<void> {
  await mkdir(paths.mountDir, { mode: 0o700 });
  const fd = openSync(paths.image, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  try {
    ftruncateSync(fd, Math.max(limitBytes, MIN_DISK_LIMIT_BYTES));
  } finally {
    closeSync(fd);
  }
  const mkfs = await runCommand("mkfs.ext4", [
    "-q",
    "-F",
    "-b",
    "4096",
    "-m",
    "0",
    "-O",
    "^has_journal,^resize_inode",
    "-E",
    "nodiscard,lazy_itable_init=1",
    paths.image,
  ]);
  if (mkfs.code !== 0) throw new Error(`mkfs.ext4 failed for the disk-limit image: ${mkfs.stderr.trim()}`);
  try {
    await loadNative().mountLoop(paths.image, paths.mountDir, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "noinit_itable");
  } catch (err) {
    throw new Error(`mounting the disk-limit image failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Unmounts the image (its loop device goes with it); idempotent. The image file goes with the bundle. */
export async function unmountDiskImage(paths: DiskPaths): Promise<void> {
  await unmountOverlay(paths.mountDir);
}

/** Loop devices whose backing file lies under `dir` (for the leak check). */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir("/sys/block").catch(() => [] as string[])) {
    if (!name.startsWith("loop")) continue;
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, "utf8").catch(() => "");
    const file = backing.trim();
    if (file === dir || file.startsWith(dir + "/")) out.push(`/dev/${name} (${file})`);
  }
  return out;
}
