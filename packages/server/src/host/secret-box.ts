/**
 * Encryption at rest for tenant secrets (issue 17): AES-256-GCM under one key
 * per data dir, `<data-dir>/secrets.key` (32 random bytes, 0600, made once and
 * written atomically). Each sealed value carries its own random nonce and tag,
 * and is bound to where it belongs (`context`, e.g. "tenant:name") as
 * associated data, so a value copied to another row does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Format marker, so another scheme can follow without guessing. */
const VERSION = "v1";

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The data dir's key, made on first use. */
  static open(dataDir: string): SecretBox {
    const path = join(dataDir, "secrets.key");
    if (!existsSync(path)) writeFileAtomic(path, randomBytes(KEY_BYTES).toString("base64") + "\n", 0o600);
    const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (key.length !== KEY_BYTES) throw new Error(`${path} does not hold a ${KEY_BYTES}-byte key; restore it from a backup`);
    return new SecretBox(key);
  }

  /** For tests: a box with a given key. */
  static withKey(key: Buffer): SecretBox {
    return new SecretBox(Buffer.from(key));
  }

  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `${VERSION}:${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString("base64")}`;
  }

  /** Throws when the value was sealed under another key or context, or was altered. */
  open(sealed: string, context: string): string {
    const [version, data] = sealed.split(":");
    if (version !== VERSION || !data) throw new Error("not a sealed secret");
    const raw = Buffer.from(data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}
