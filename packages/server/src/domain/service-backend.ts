/**
 * Rules of a service's declared backend (builtIn / external). An external
 * endpoint is stored and echoed in every definition, so it must never carry
 * a credential: it is an absolute http(s) URL with a host and no user-info
 * part (issue 15 #20). Credentials for external services belong in the
 * tenant's secrets, not in the definition. Messages never repeat the value.
 */
import { invalidInput } from "./errors.js";

/** The backend fields that name an endpoint URL (`url` is ours; `endpoint` and `baseUrl` are accepted spellings). */
export const ENDPOINT_URL_FIELDS = ["url", "endpoint", "baseUrl"] as const;

/** Throws 400 `op.invalid_input` naming the field unless `value` is an absolute http(s) URL with a host and no user-info. */
export function assertEndpointUrl(value: unknown, field: string): void {
  const what = `${field} must be an absolute http(s) URL with a host, like https://api.example.com/v1`;
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) throw invalidInput(`${what} (at most 2048 characters)`, { field });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput(what, { field });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalidInput(`${what}; other schemes are not accepted`, { field });
  // WHATWG parsing forgives `http:///path` (host "path") and `https://@host`, so the raw authority is checked too.
  const slashes = value.indexOf("//");
  const authority = slashes === -1 ? "" : (value.slice(slashes + 2).split(/[/?#\\]/, 1)[0] ?? "");
  if (url.hostname === "" || authority === "") throw invalidInput(`${what}; this one has no host`, { field });
  if (url.username !== "" || url.password !== "" || authority.includes("@")) {
    throw invalidInput(`${field} must not carry credentials (user:password@): remove them; keep secrets out of service definitions`, { field });
  }
}

/** Checks a builtIn/external backend: its endpoint URL fields, and that an external one names its endpoint. */
export function checkDeclaredBackend(backend: { kind: string; [field: string]: unknown }): void {
  const given = ENDPOINT_URL_FIELDS.filter((f) => backend[f] !== undefined);
  for (const f of given) assertEndpointUrl(backend[f], `spec.backend.${f}`);
  if (backend.kind === "external" && given.length === 0) {
    throw invalidInput("missing required field `spec.backend.url` in body: an external backend names its endpoint, e.g. https://api.example.com", {
      field: "spec.backend.url",
    });
  }
}
