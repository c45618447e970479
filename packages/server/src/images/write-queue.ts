/**
 * Bounded parallel file creation for unpacking. Creating a file is the
 * slowest step of extraction (the kernel's work in open(O_CREAT)), and it
 * scales across the libuv thread pool, so small files are written several at
 * a time. `drain()` waits for all of them (and rethrows the first failure);
 * the extractor drains before anything that could depend on a pending file.
 */
import { promises as fsp } from "node:fs";

export interface PendingFile {
  abs: string;
  flags: number;
  data: Buffer[];
  uid: number;
  gid: number;
  mode: number;
  mtime: number;
}

async function writeWhole(f: PendingFile): Promise<void> {
  const fh = await fsp.open(f.abs, f.flags, 0o600);
  try {
    if (f.data.length > 0) await fh.writev(f.data);
    if (f.uid !== 0 || f.gid !== 0) await fh.chown(f.uid, f.gid);
    // chmod after chown: chown clears setuid/setgid bits.
    await fh.chmod(f.mode);
    await fh.utimes(f.mtime, f.mtime);
  } finally {
    await fh.close();
  }
}

export class WriteQueue {
  private readonly inflight = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(file: PendingFile): Promise<void> {
    if (this.failure) throw this.failure.err;
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    const p: Promise<void> = writeWhole(file)
      .catch((err: unknown) => {
        this.failure ??= { err };
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight);
    if (this.failure) throw this.failure.err;
  }
}
