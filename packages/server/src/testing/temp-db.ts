/**
 * A fresh SQLite database (every migration applied) in a temp data dir of its
 * own, for unit tests of the store and the domain; `close()` closes it and
 * removes the dir.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../store/db.js";

export interface TempDb {
  /** The data dir holding the database. */
  dir: string;
  db: Db;
  close(): void;
}

export function openTempDb(dirPrefix: string): TempDb {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const db = openDatabase(dir);
  return {
    dir,
    db,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
