/**
 * Whether a process id names a live process: the check behind the pid files
 * (the data dir lock, the discovery file) that tells a live owner from a stale
 * file. EPERM means it lives under another user.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
