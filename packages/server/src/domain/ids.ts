/**
 * Identifier rules shared by every entity (contract §1), and the ULID-based
 * ids the server mints. Ids are path-safe by construction.
 */
import { randomBytes } from "node:crypto";
import { invalidInput } from "./errors.js";

const TENANT_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function assertTenantId(id: string): void {
  if (!TENANT_ID.test(id)) {
    throw invalidInput(`tenant id \`${truncate(id)}\` is invalid: use 1-128 characters of A-Z, a-z, 0-9, _ and -`, { field: "id" });
  }
  if (id.startsWith("_")) {
    throw invalidInput(`tenant id \`${truncate(id)}\` is reserved: ids starting with _ belong to the server`, { field: "id" });
  }
}

/** Names and ids used in paths: non-empty, no `/`, no edge whitespace, no control characters. */
export function assertPathName(kind: string, value: string): void {
  if (value.length === 0 || value.length > 253 || value.includes("/") || value.trim() !== value || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidInput(`${kind} \`${truncate(value)}\` is invalid: it must be 1-253 characters with no '/', control characters or surrounding whitespace`, {
      field: kind,
    });
  }
}

function truncate(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > 64 ? clean.slice(0, 64) + "…" : clean;
}

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/** A lowercase ULID: 48-bit millisecond time + 80 random bits, Crockford base32. */
export function ulid(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i]! % 32];
  return time + rand;
}

/** `<slug of displayName or fallback>-<ulid>` (contract §4). */
export function slugId(displayName: string | undefined, fallback: string): string {
  const slug = (displayName ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return `${slug || fallback}-${ulid()}`;
}
