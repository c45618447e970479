/**
 * Label rules (Kubernetes-style, so labels port to the multi-host plan):
 * key = optional DNS prefix + "/" + name of 1-63 characters
 * [A-Za-z0-9] with - _ . inside; value = 0-63 of the same; at most 64 labels.
 */
import { invalidInput } from "./errors.js";

const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const MAX_LABELS = 64;

export function isValidLabelKey(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash === -1) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

export function isValidLabelValue(value: string): boolean {
  return value === "" || NAME.test(value);
}

export function assertLabels(labels: Record<string, string>, field = "labels"): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw invalidInput(`at most ${MAX_LABELS} labels are allowed, got ${entries.length}`, { field });
  for (const [k, v] of entries) {
    if (!isValidLabelKey(k)) {
      throw invalidInput(
        `label key \`${k.slice(0, 80)}\` is invalid: use an optional DNS prefix and '/', then 1-63 characters of letters, digits, '-', '_' and '.', starting and ending alphanumeric`,
        { field: `${field}.${k.slice(0, 80)}` },
      );
    }
    if (!isValidLabelValue(v)) {
      throw invalidInput(`label value for \`${k}\` is invalid: use 0-63 characters of letters, digits, '-', '_' and '.', starting and ending alphanumeric`, {
        field: `${field}.${k}`,
      });
    }
  }
}
