// runtime/keyed-lock.ts — serialising async work per key: one container id in
// the runtime (create and delete of an id never interleave), one sandbox or
// service in the domain (a stop that races a launch, or two stops, run one after
// the other). A tiny promise chain per key; different keys run fully in parallel.

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
