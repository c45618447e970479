/**
 * The data dir's instance id: minted once per data dir, kept in
 * `<data-dir>/instance-id` (0600), stamped on every container the server
 * makes. The boot reconciler removes an orphan container only when it carries
 * this id, so a container made by hand, by another data dir, or by a server
 * that lost its database is never taken for ours.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "./atomic-write.js";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./private-fs.js";

const PATTERN = /^[0-9a-f]{32}$/;

export function instanceIdPath(dataDir: string): string {
  return join(dataDir, "instance-id");
}

export function readInstanceId(dataDir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(instanceIdPath(dataDir), "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (!PATTERN.test(text))
    throw new Error(`${instanceIdPath(dataDir)} is malformed (expected 32 hex digits); restore it from a backup of the data dir or move it aside`);
  return text;
}

/** The id, minted on first use. */
export function ensureInstanceId(dataDir: string): string {
  const existing = readInstanceId(dataDir);
  if (existing) return existing;
  const id = randomBytes(16).toString("hex");
  writeFileAtomic(instanceIdPath(dataDir), `${id}\n`, PRIVATE_FILE_MODE, PRIVATE_DIR_MODE);
  return id;
}
