// The SDK as a user gets it: `npm pack` of this package, installed into a
// fresh project from the tarball (no registry needed: it has no
// dependencies), then loaded with `import` and with `require`, and
// type-checked from TypeScript in both module systems. The tarball carries
// no tests or test helpers.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const pkgDir = fileURLToPath(new URL("../../../nimbus/", import.meta.url)); // from packages/server/dist/e2e
const tsc = fileURLToPath(new URL("../../../../node_modules/typescript/bin/tsc", import.meta.url));
let work = "";
let tarball = "";

const run = (file: string, args: string[], cwd = work) => execFileSync(file, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

before(() => {
  work = mkdtempSync(join(tmpdir(), "nimbus-sdk-install-"));
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], pkgDir)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, packed[0]!.filename);
  writeFileSync(join(work, "files.json"), JSON.stringify(packed[0]!.files.map((f) => f.path)));
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "agent", version: "1.0.0", private: true }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", tarball]);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball ships the ESM and CommonJS builds with types, and no tests", async () => {
  const files: string[] = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(join(work, "files.json"), "utf8")));
  for (const f of ["dist/index.js", "dist/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json", "package.json"])
    assert.ok(files.includes(f), f);
  assert.deepEqual(
    files.filter((f) => /\.test\.|\/testing\//.test(f)),
    [],
  );
});

test("import and require both load it from an installed tarball", () => {
  assert.ok(readdirSync(join(work, "node_modules", "@nimbus", "nimbus", "dist")).includes("index.js"));
  const esm = run(process.execPath, [
    "--input-type=module",
    "-e",
    'import { Nimbus, NimbusNotFoundError } from "@nimbus/nimbus"; console.log(typeof Nimbus, typeof NimbusNotFoundError)',
  ]);
  assert.equal(esm.trim(), "function function");
  const cjs = run(process.execPath, [
    "-e",
    'const { Nimbus, NimbusNotFoundError } = require("@nimbus/nimbus"); console.log(typeof Nimbus, typeof NimbusNotFoundError)',
  ]);
  assert.equal(cjs.trim(), "function function");
});

test("TypeScript finds its types from both module systems", () => {
  const src =
    'import { Nimbus, type Sandbox } from "@nimbus/nimbus";\nconst n: Nimbus = new Nimbus({ endpoint: "http://localhost:1", token: "t" });\nexport const f = (s: Sandbox): string => s.metadata.id + String(n);\n';
  writeFileSync(join(work, "esm.mts"), src);
  writeFileSync(join(work, "cjs.cts"), src);
  const common = [
    "--noEmit",
    "--strict",
    "--module",
    "NodeNext",
    "--moduleResolution",
    "NodeNext",
    "--types",
    "node",
    "--typeRoots",
    join(pkgDir, "../../node_modules/@types"),
  ];
  run(process.execPath, [tsc, ...common, "esm.mts", "cjs.cts"]); // one compiler run checks both
  // A wrong type is an error, so the check above can fail.
  writeFileSync(join(work, "bad.mts"), 'import { Nimbus } from "@nimbus/nimbus";\nconst n: number = new Nimbus({});\nexport default n;\n');
  assert.throws(() => run(process.execPath, [tsc, ...common, "bad.mts"]));
});
