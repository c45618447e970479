/**
 * The local admin token (contract §2): minted on first boot, kept as JSON at
 * a per-user path with mode 0600 in a 0700 dir, rotated on request. The
 * server keeps only a SHA-256 of the token in memory and compares digests in
 * constant time, so the comparison time does not depend on the presented value.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync, chmodSync } from "node:fs";
import { writeFileAtomic } from "./atomic-write.js";

export interface AdminTokenFile {
  version: 1;
  token: string;
  generation: number;
  issuedAt: string;
  scope: "local-admin";
}

const TOKEN_PATTERN = /^nimbus_at_[A-Za-z0-9_-]{43}$/;

export function mintToken(): string {
  return "nimbus_at_" + randomBytes(32).toString("base64url");
}

export function digestSecret(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** Constant-time comparison of a presented secret against a stored digest. */
export function secretMatches(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digestSecret(presented), expectedDigest);
}

export function readAdminToken(path: string): AdminTokenFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<AdminTokenFile>;
  if (parsed.version !== 1 || typeof parsed.token !== "string" || !TOKEN_PATTERN.test(parsed.token) || typeof parsed.generation !== "number") {
    throw new Error(`the admin token file ${path} is malformed; move it aside and restart to mint a new one`);
  }
  return parsed as AdminTokenFile;
}

function writeToken(path: string, generation: number): AdminTokenFile {
  const file: AdminTokenFile = { version: 1, token: mintToken(), generation, issuedAt: new Date().toISOString(), scope: "local-admin" };
  writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n", 0o600, 0o700);
  return file;
}

/** Read the token, minting it on first boot. Never rewrites an existing token. */
export function ensureAdminToken(path: string): { file: AdminTokenFile; minted: boolean } {
  const existing = readAdminToken(path);
  if (existing) {
    // Tighten modes if someone loosened them; the content is left alone.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { file: existing, minted: false };
  }
  return { file: writeToken(path, 1), minted: true };
}

export function rotateAdminToken(path: string): AdminTokenFile {
  const current = readAdminToken(path);
  return writeToken(path, (current?.generation ?? 0) + 1);
}
