import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretBox } from "./secret-box.js";

test("the key is made once, 0600, and values round-trip only in their own context", () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-secret-box-"));
  try {
    const box = SecretBox.open(dir);
    assert.equal(statSync(join(dir, "secrets.key")).mode & 0o777, 0o600);
    const key = readFileSync(join(dir, "secrets.key"), "utf8");
    const sealed = box.seal("sk-live-123", "demo:OPENAI");
    assert.ok(!sealed.includes("sk-live-123"));
    assert.notEqual(box.seal("sk-live-123", "demo:OPENAI"), sealed, "a fresh nonce each time");
    assert.equal(SecretBox.open(dir).open(sealed, "demo:OPENAI"), "sk-live-123");
    assert.equal(readFileSync(join(dir, "secrets.key"), "utf8"), key, "the key is kept");
    assert.throws(() => box.open(sealed, "other:OPENAI"));
    const tampered = sealed.slice(0, -4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
    assert.throws(() => box.open(tampered, "demo:OPENAI"));
    assert.throws(() => SecretBox.withKey(Buffer.alloc(32, 7)).open(sealed, "demo:OPENAI"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
