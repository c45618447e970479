/**
 * docs/errors.md is checked against the one error catalogue: every code in
 * ERROR_CATALOGUE has a row with its HTTP status and retryable flag, the
 * page lists or mentions no server code the catalogue lacks, and every
 * `client.*` code the SDK throws is documented with status 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ERROR_CATALOGUE } from "./errors.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const DOC = readFileSync(join(repoRoot, "docs/errors.md"), "utf8");

type Catalogue = Record<string, { status: number; retryable: boolean }>;

/** Table rows `| \`code\` | status | retryable | meaning |` under `## <heading>`. */
function rows(doc: string, heading: string, problems: string[]): Map<string, { status: number; retryable: string }> {
  const out = new Map<string, { status: number; retryable: string }>();
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start === -1) {
    problems.push(`no "## ${heading}" section`);
    return out;
  }
  const next = doc.indexOf("\n## ", start + 1);
  for (const line of doc.slice(start, next === -1 ? undefined : next).split("\n")) {
    const m = /^\| `([a-z]+\.[a-z_]+)` \| (\d+) \| ([a-z /]+) \|/.exec(line);
    if (!m) continue;
    if (out.has(m[1]!)) problems.push(`${m[1]} is listed twice`);
    out.set(m[1]!, { status: Number(m[2]), retryable: m[3]!.trim() });
  }
  return out;
}

/** Every way the page disagrees with the catalogue. */
function serverProblems(doc: string, catalogue: Catalogue): string[] {
  const problems: string[] = [];
  const documented = rows(doc, "Server codes", problems);
  for (const [code, entry] of Object.entries(catalogue)) {
    const row = documented.get(code);
    if (!row) problems.push(`${code} is missing from docs/errors.md`);
    else {
      if (row.status !== entry.status) problems.push(`${code}: docs say HTTP ${row.status}, the catalogue ${entry.status}`);
      if (row.retryable !== (entry.retryable ? "yes" : "no")) problems.push(`${code}: docs say retryable "${row.retryable}", the catalogue ${entry.retryable}`);
    }
  }
  for (const code of documented.keys()) if (!(code in catalogue)) problems.push(`docs/errors.md lists ${code}, which ERROR_CATALOGUE lacks`);
  for (const [, code] of doc.matchAll(/`((?:auth|op|rate|service)\.[a-z_]+)`/g)) {
    if (!(code! in catalogue)) problems.push(`docs/errors.md mentions ${code}, which ERROR_CATALOGUE lacks`);
  }
  return problems;
}

test("docs/errors.md has every catalogue code with its HTTP status and retryable flag, and no other", () => {
  assert.deepEqual(serverProblems(DOC, ERROR_CATALOGUE), []);
});

test("the check catches a missing row, a wrong status, a wrong flag and an unknown code", () => {
  const catalogue: Catalogue = { ...ERROR_CATALOGUE, "op.brand_new": { status: 418, retryable: false } };
  assert.match(serverProblems(DOC, catalogue).join("\n"), /op\.brand_new is missing/);
  const wrongStatus = DOC.replace("| `op.conflict` | 409 |", "| `op.conflict` | 400 |");
  assert.match(serverProblems(wrongStatus, ERROR_CATALOGUE).join("\n"), /op\.conflict: docs say HTTP 400/);
  const wrongFlag = DOC.replace("| `service.internal` | 500 | yes |", "| `service.internal` | 500 | no |");
  assert.match(serverProblems(wrongFlag, ERROR_CATALOGUE).join("\n"), /service\.internal: docs say retryable/);
  const extra = DOC.replace("\n## SDK client codes", "\nAlso `op.gone`.\n\n## SDK client codes");
  assert.match(serverProblems(extra, ERROR_CATALOGUE).join("\n"), /mentions op\.gone/);
});

test("every client.* code the SDK throws is documented with status 0, and no others", () => {
  const sdkSrc = join(repoRoot, "packages/nimbus/src");
  const thrown = new Set<string>();
  for (const name of readdirSync(sdkSrc)) {
    if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
    for (const [, code] of readFileSync(join(sdkSrc, name), "utf8").matchAll(/"(client\.[a-z_]+)"/g)) thrown.add(code!);
  }
  assert.ok(thrown.size > 0, "found the SDK's client codes");
  const problems: string[] = [];
  const documented = rows(DOC, "SDK client codes", problems);
  for (const code of thrown) {
    if (!documented.has(code)) problems.push(`${code} (thrown by the SDK) is missing from docs/errors.md`);
    else if (documented.get(code)!.status !== 0) problems.push(`${code}: status must be 0`);
  }
  for (const code of documented.keys()) if (!thrown.has(code)) problems.push(`docs/errors.md lists ${code}, which the SDK does not use`);
  assert.deepEqual(problems, []);
});
