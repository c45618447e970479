/**
 * Last-resort teardown for tests that failed half way: removes every
 * container a state dir still holds (conmon, mounts, cgroups), so one failing
 * test cannot leak host resources into the next. Tests still assert that the
 * product itself left nothing; this only runs after that check.
 */
import { existsSync } from "node:fs";
import { ContainerBackend } from "../runtime/index.js";

export async function purgeRuntime(stateDir: string): Promise<string[]> {
  if (!existsSync(stateDir)) return [];
  const backend = new ContainerBackend({ stateDir });
  const removed: string[] = [];
  try {
    for (const c of await backend.list()) {
      await backend.delete(c.id).catch(() => undefined);
      removed.push(c.id);
    }
  } finally {
    backend.close();
  }
  return removed;
}
