/**
 * One server per data dir. Two servers on one dir would each reconcile the
 * other's containers as orphans, so the second refuses to start. The lock is
 * a pid file created exclusively; a file whose pid is gone is stale and taken
 * over (the previous server crashed or was killed).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pidAlive } from "./pid-alive.js";

export class DataDirLockedError extends Error {}

export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, "nimbus.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new DataDirLockedError(`data dir ${dataDir} is in use by another nimbus server (pid ${pid}); stop it first or use another --data-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new DataDirLockedError(`could not lock data dir ${dataDir}; remove ${path} if no server is running`);
}
