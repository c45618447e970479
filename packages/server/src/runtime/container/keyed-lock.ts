// runtime/container/keyed-lock.ts — serialising operations on one container id.
// Owns a tiny per-key promise chain so create and delete of the same id never
// interleave (e.g. the reaper and a user deleting at once), while different ids
// run fully in parallel.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
