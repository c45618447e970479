/**
 * Secrets that never enter the sandbox (issue 17): a sandbox that names a
 * secret sees only a placeholder, `NIMBUS_SECRET_<NAME>=nimbus-secret://<NAME>`;
 * the egress proxy puts the real value into requests to the secret's hosts only.
 *
 * On a request to one of a secret's hosts:
 * - every header that carries the placeholder gets the value in its place (a
 *   header that is the placeholder alone and is the secret's own header gets
 *   the secret's `format`, e.g. `Bearer {value}`);
 * - when the secret's header is absent, it is added, formatted.
 * A placeholder sent to any other host is sent as it is: it is not the secret,
 * and the request is left alone. Values are checked when stored, so no value
 * can inject a header line.
 */
import { invalidInput } from "./errors.js";
import { nameMatchesPattern } from "./egress-policy.js";

export interface BoundSecret {
  name: string;
  value: string;
  /** Exact names or `*.suffix` patterns. */
  hosts: string[];
  /** @default "Authorization" */
  header: string;
  /** `{value}` is replaced by the value. @default "Bearer {value}" */
  format: string;
}

const NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const HEADER = /^[A-Za-z0-9-]{1,64}$/;

export const placeholderOf = (name: string) => `nimbus-secret://${name}`;

/** The environment a sandbox gets for the secrets it names. */
export function placeholderEnv(names: string[]): string[] {
  return names.map((n) => `NIMBUS_SECRET_${n}=${placeholderOf(n)}`);
}

/** Checks a secret as it is stored; each problem is a 400 naming the field. */
export function checkSecret(s: { name: string; value: string; hosts: string[]; header?: string; format?: string }): void {
  if (!NAME.test(s.name))
    throw invalidInput("`name` must be 1-64 characters of A-Z, 0-9 and _, starting with a letter (it becomes NIMBUS_SECRET_<name>)", { field: "name" });
  if (s.value.length === 0 || s.value.length > 16_384 || /[\r\n\0]/.test(s.value))
    throw invalidInput("`value` must be 1-16384 characters without line breaks or NUL", { field: "value" });
  if (s.hosts.length === 0) throw invalidInput("`hosts` must name at least one host the secret may be sent to", { field: "hosts" });
  s.hosts.forEach((h, i) => {
    const probe = h.startsWith("*.") ? `x.${h.slice(2)}` : h;
    if (!nameMatchesPattern(h, probe) || (h.startsWith("*.") && !h.slice(2).includes(".")))
      throw invalidInput(`hosts[${i}]: \`${h}\` is not a host name or *.suffix pattern`, { field: `hosts[${i}]` });
  });
  if (s.header !== undefined && !HEADER.test(s.header)) throw invalidInput("`header` must be an HTTP header name", { field: "header" });
  if (s.format !== undefined && (!s.format.includes("{value}") || /[\r\n\0]/.test(s.format)))
    throw invalidInput("`format` must contain {value} and no line breaks", { field: "format" });
}

/** The request headers as they leave for `host`, and which secrets went into them. */
export function injectSecrets(headers: Array<[string, string]>, host: string, secrets: BoundSecret[]): { headers: Array<[string, string]>; used: string[] } {
  const used: string[] = [];
  let out = headers.map(([k, v]) => [k, v] as [string, string]);
  for (const secret of secrets) {
    if (!secret.hosts.some((p) => nameMatchesPattern(p, host))) continue;
    const placeholder = placeholderOf(secret.name);
    const formatted = secret.format.split("{value}").join(secret.value);
    let present = false;
    let injected = false;
    out = out.map(([k, v]) => {
      const own = k.toLowerCase() === secret.header.toLowerCase();
      present ||= own;
      if (!v.includes(placeholder)) return [k, v];
      injected = true;
      return [k, own && v.trim() === placeholder ? formatted : v.split(placeholder).join(secret.value)];
    });
    if (!present) {
      out.push([secret.header, formatted]);
      injected = true;
    }
    if (injected) used.push(secret.name);
  }
  return { headers: out, used };
}
