/**
 * The hammer of the hostile race tests: `attempts` calls of `attempt(i)`
 * spread over `concurrency` workers (each takes the next `i` as soon as its
 * previous call has answered) while a sandbox races them. Each call answers a
 * key to count (an HTTP status, or `op:status`); the counts come back with a
 * one-line summary for diagnostics and assertion messages.
 */
export interface RaceTally<K> {
  counts: Map<K, number>;
  /** The counts as one JSON object, keys sorted. */
  summary: string;
}

export async function raceTally<K>(attempts: number, concurrency: number, attempt: (i: number) => Promise<K>): Promise<RaceTally<K>> {
  const counts = new Map<K, number>();
  let next = 0;
  const worker = async () => {
    while (next < attempts) {
      const key = await attempt(next++);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { counts, summary: JSON.stringify(Object.fromEntries([...counts].sort())) };
}
