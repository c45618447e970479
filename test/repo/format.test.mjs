// The tree is formatted by Prettier with the repo's .prettierrc.json; this
// fails when a source file is not, and is shown failing once on a file
// formatted by hand, so a broken check cannot pass silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const prettier = join(root, "node_modules/.bin/prettier");
export const FORMATTED = [
  "packages/*/src/**/*.ts",
  "packages/*/lib/**/*.{js,ts}",
  "packages/*/test/**/*.mjs",
  "scripts/**/*.mjs",
  "bench/**/*.mjs",
  "examples/**/*.mjs",
  "test/**/*.mjs",
];

const check = (args) => spawnSync(prettier, ["--check", ...args], { cwd: root, encoding: "utf8" });

test("every source file is formatted by Prettier (run `npx prettier --write .` to fix)", () => {
  const r = check(FORMATTED);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

test("the check fails on a file formatted by hand", () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-format-probe-"));
  try {
    const file = join(dir, "probe.ts");
    writeFileSync(file, "export const x = {a:1,\n    b:2}\n");
    const r = check(["--config", join(root, ".prettierrc.json"), file]);
    assert.notEqual(r.status, 0, "prettier --check accepted a misformatted file");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
