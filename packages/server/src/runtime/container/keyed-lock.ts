// runtime/container/keyed-lock.ts — serialising operations on one container id.
// Owns a tiny per-key promise chain so create and delete of the same id never
// interleave (e.g. the reaper and a user deleting at once), while different ids
// run fully in parallel.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // With nothing queued for the key, fn starts now rather than a microtask
    // later: a create's first steps (spawning conmon) then run inside the caller's
    // synchronous code, ahead of whatever that does next (the store's fsync).
    const prev = this.tails.get(key);
    const next = prev ? prev.then(fn, fn) : startNow(fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

function startNow<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}
