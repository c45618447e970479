// runtime/container/cleanup.ts — removing every host trace of one container.
// Owns the teardown order after the runtime's own delete: let conmon finish (it
// writes into the bundle until it exits), unmount the overlay and the disk-limit image, remove cgroup dirs,
// then the bundle, exit file, attach link and any runtime state left behind.
// Every step tolerates "already gone", which makes delete idempotent.

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { removeCgroup, removeEmptyParent } from "./cgroups.js";
import { liveConmonPid, reapConmon, recordedConmonPid } from "./conmon.js";
import type { StateLayout } from "./layout.js";
import { diskPaths, unmountDiskImage } from "./disk-image.js";
import { mountPointsUnder, unmountOverlay } from "./overlay.js";

const CONMON_EXIT_WAIT_MS = 3000;

export async function removeContainerFiles(
  id: string,
  layout: StateLayout,
  opts: { cgroupsPath: string; parentPath: string; removeGroup?: () => Promise<void>; removeParent: () => boolean },
): Promise<void> {
  await stopConmon(layout.conmonPidFile(id));
  const rootfs = layout.rootfs(id);
  await unmountOverlay(rootfs);
  // The writable layer's own filesystem (a sandbox with diskLimitBytes), under the root.
  await unmountDiskImage(diskPaths(layout.bundle(id)));
  const mounted = mountPointsUnder(layout.bundle(id));
  if (mounted.length > 0) {
    // Never recurse into a live root: that would delete through the overlay.
    throw new Error(`${mounted.join(", ")} is still mounted; unmount it by hand (umount -l ${mounted[0]})`);
  }
  const failed = await removeCgroup(opts.cgroupsPath);
  if (failed.length === 0 && opts.removeGroup) await opts.removeGroup();
  if (opts.removeParent()) await removeEmptyParent(opts.parentPath);
  await Promise.all([
    rm(layout.bundle(id), { recursive: true, force: true }),
    rm(layout.exitFile(id), { force: true }),
    rm(join(layout.socketsDir, id), { force: true }),
    rm(join(layout.runtimeRoot, id), { recursive: true, force: true }),
  ]);
  if (failed.length > 0) throw new Error(`could not remove cgroup dirs ${failed.join(", ")}`);
}

/** conmon exits by itself once the container is gone; give it a moment, then insist, then reap it. */
async function stopConmon(pidFile: string): Promise<void> {
  const recorded = recordedConmonPid(pidFile);
  try {
    await waitForConmonExit(pidFile);
  } finally {
    if (recorded !== undefined) reapConmon(recorded);
  }
}

async function waitForConmonExit(pidFile: string): Promise<void> {
  const deadline = Date.now() + CONMON_EXIT_WAIT_MS;
  for (let pid = liveConmonPid(pidFile); pid !== undefined; pid = liveConmonPid(pidFile)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // exited meanwhile
      }
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() > deadline + 1000) return;
      continue;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
