/**
 * User and group ids as tenants write them (`user: "uid[:gid]"`). The kernel's
 * ids are 32-bit and (uid_t)-1 means "no id", so anything outside
 * 0..4294967294 would wrap or mean something else on the way to the runtime:
 * `4294967296` used to run as root. Only canonical decimal integers in range
 * pass; a part that starts with a digit is an id, never a name.
 */
import { invalidInput } from "./errors.js";

/** The largest uid/gid a process may have: 2^32 - 2, since 2^32 - 1 is (uid_t)-1. */
export const MAX_ID = 4_294_967_294;

const DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;

/** True when `part` is meant as a number (not a user or group name). */
export function looksNumeric(part: string): boolean {
  return /^[-+0-9]/.test(part);
}

/** A uid or gid from text; anything but a decimal integer in 0..MAX_ID is a 400 naming `field`. */
export function parseId(part: string, field: string, what: "uid" | "gid"): number {
  if (!DECIMAL.test(part) || Number(part) > MAX_ID) {
    throw invalidInput(
      `${field}: ${what} \`${part.slice(0, 40)}\` is not a decimal integer in 0..${MAX_ID} (no sign, exponent, hex or leading zeros); give a valid ${what}`,
      {
        field,
        reason: `${what} out of range`,
      },
    );
  }
  return Number(part);
}

/**
 * Checks the numeric parts of a `user` string (`name`, `uid`, `name:gid`,
 * `uid:gid`, …) at the API boundary; names are looked up later in the image.
 */
export function checkUserSpec(user: string | undefined, field: string): void {
  if (user === undefined) return;
  const [userPart = "", groupPart, ...rest] = user.split(":");
  if (rest.length > 0) throw invalidInput(`${field}: \`${user.slice(0, 80)}\` has more than one \`:\`; give user[:group]`, { field });
  if (looksNumeric(userPart)) parseId(userPart, field, "uid");
  if (groupPart !== undefined && groupPart !== "" && looksNumeric(groupPart)) parseId(groupPart, field, "gid");
}
