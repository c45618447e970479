/**
 * The discovery file: where the running server listens, so CLI commands find
 * it without flags. Written after listening, removed on clean shutdown; a
 * stale file (its pid gone) is ignored by readers.
 */
import { readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "./atomic-write.js";
import { pidAlive } from "./pid-alive.js";

export interface DiscoveryRecord {
  pid: number;
  address: string;
  version: string;
  dataDir: string;
  startedAt: string;
}

export function writeDiscovery(path: string, record: DiscoveryRecord): void {
  writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n", 0o600, 0o700);
}

/** The live server's record, or undefined when none is running. */
export function readDiscovery(path: string): DiscoveryRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(path, "utf8")) as DiscoveryRecord;
    return typeof rec.pid === "number" && typeof rec.address === "string" && pidAlive(rec.pid) ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** Remove the file only if it still describes this process (another server may have replaced it). */
export function removeDiscovery(path: string, pid = process.pid): void {
  try {
    const rec = JSON.parse(readFileSync(path, "utf8")) as DiscoveryRecord;
    if (rec.pid === pid) rmSync(path, { force: true });
  } catch {
    /* nothing to remove */
  }
}
