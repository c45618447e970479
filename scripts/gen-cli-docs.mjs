#!/usr/bin/env node
// Writes docs/cli.md from every command's own `--help` (packages/server/src/cli/docs.ts).
// Needs the build (`npm run docs` builds first). `--check` exits 1 when the file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
let mod;
try {
  mod = await import(join(root, "packages/server/dist/cli/docs.js"));
} catch (err) {
  console.error(`gen-cli-docs: cannot load the built CLI (${err.message}); run \`npm run build\` first`);
  process.exit(1);
}
const target = join(root, mod.CLI_DOC_PATH);
const text = mod.renderCliDocs();
let current = "";
try {
  current = readFileSync(target, "utf8");
} catch {}
if (process.argv.includes("--check")) {
  if (current !== text) {
    console.error(`${mod.CLI_DOC_PATH} is out of date: run \`npm run docs\``);
    process.exit(1);
  }
  console.log(`${mod.CLI_DOC_PATH} is up to date`);
} else if (current === text) {
  console.log(`${mod.CLI_DOC_PATH} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${mod.CLI_DOC_PATH}`);
}
