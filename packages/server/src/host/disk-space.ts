/**
 * Free space on the filesystem that holds the data dir, for the disk guard.
 * statfs is one syscall on a local filesystem, cheap enough for every create.
 */
import { statfsSync } from "node:fs";

/** Bytes an unprivileged writer can still use (f_bavail: root's reserve not counted). */
export function freeBytesUnder(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
