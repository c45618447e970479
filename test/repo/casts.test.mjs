// Casts that hide a wire-type mismatch (issue 16): outside tests and test
// helpers, no `as unknown as` and no cast to a lifecycle state. The server's
// store rows and the SDK share one set of wire types, so such a cast means a
// second shape has crept in; fix the type instead. The last test feeds the
// check both casts, so a broken check cannot pass silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CAST = /\bas unknown as\b|\bas (?:LifecycleState|SandboxState|SessionState|ServiceState|SandboxReason)\b/;

function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "testing" && e.name !== "node_modules" && e.name !== "dist") out.push(...sources(p));
    } else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** "file:line: text" for every hiding cast in the given [name, text] pairs. */
export function castsIn(files) {
  const out = [];
  for (const [name, text] of files) text.split("\n").forEach((line, i) => CAST.test(line) && out.push(`${name}:${i + 1}: ${line.trim()}`));
  return out;
}

test("no `as unknown as` and no lifecycle-state casts outside tests", () => {
  const files = ["packages/server/src", "packages/nimbus/src"].flatMap((d) => sources(join(root, d)));
  assert.deepEqual(castsIn(files.map((f) => [relative(root, f), readFileSync(f, "utf8")])), []);
});

test("the check finds both kinds of cast", () => {
  const found = castsIn([["a.ts", "const s = row.spec as unknown as Spec;\nconst t = x.state as SandboxState;\nconst ok = y as Spec;"]]);
  assert.equal(found.length, 2, found.join("\n"));
});
