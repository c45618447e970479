#!/usr/bin/env node
// Collects every compiled test file and hands them to Node's built-in test
// runner in one process tree. Node 20's `--test` takes no globs, so the
// walk happens here. Extra arguments are passed through (e.g. a file filter).
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { hostSnapshot, newSince } from "./host-leaks.mjs";

const root = new URL("..", import.meta.url).pathname;
const roots = ["packages/native/test", "packages/nimbus/dist", "packages/server/dist", "test"];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === "node_modules" || name === "fixtures-cache") continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.test\.(m?js)$/.test(name)) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("-"));
let files = roots.flatMap((r) => walk(join(root, r), []));
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
files.sort();
if (files.length === 0) {
  console.error("no test files found (did the build run?)");
  process.exit(1);
}
console.log(`running ${files.length} test files`);
const before = hostSnapshot();
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...flags, ...files.map((f) => relative(root, f))], {
  cwd: root,
  stdio: "inherit",
});
// The leak check: every test must clean up what it started.
const leaks = newSince(before, hostSnapshot());
if (leaks.length > 0) {
  console.error(`\nhost leak check: the suite left ${leaks.length} thing(s) behind:\n  ${leaks.join("\n  ")}`);
  process.exit(r.status || 1);
}
console.log("host leak check: nothing left behind (processes, mounts, temp dirs)");
process.exit(r.status ?? 1);
