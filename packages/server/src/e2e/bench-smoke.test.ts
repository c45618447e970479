/**
 * Every benchmark still runs: each is started with tiny counts and must exit
 * 0 and print its comparison lines. The numbers are not judged here (timing
 * goals live in the benches themselves); this only stops a bench from
 * silently rotting while CI stays green.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));

function bench(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.on("close", (code) => resolve({ code, out }));
  });
}

const CASES: Array<[string, string[], RegExp[]]> = [
  ["bench/sandbox-start/raw.mjs", ["3"], [/p50/]],
  ["bench/sandbox-start/api.mjs", ["--runs", "2", "--concurrent", "2", "--rounds", "1", "--idle", "1"], [/API create → ready/, /ratio/, /per idle sandbox/]],
  ["bench/service-proxy/run.mjs", ["--requests", "20", "--rounds", "1", "--concurrency", "2"], [/proxy route/, /the proxy adds/]],
  ["bench/session-io/run.mjs", ["--rtts", "20", "--mib", "4", "--opens", "3"], [/p50/, /MiB\/s/]],
  ["bench/pull/run.mjs", ["--rounds", "1"], [/ratio/, /warm pull/]],
  ["bench/egress/run.mjs", ["--connects", "8", "--mib", "2", "--rounds", "1"], [/sandbox via proxy +p50/, /ratio proxy\/direct/]],
  [
    "bench/processes/run.mjs",
    ["--runs", "4", "--firsts", "2"],
    [/crun exec \(floor\) +p50/, /SDK commands\.run\("true"\) +p50/, /podman exec/, /first stdout frame +p50/],
  ],
];

for (const [script, args, expect] of CASES) {
  test(`${script} runs to the end`, { timeout: 300_000 }, async () => {
    const r = await bench(script, args);
    assert.equal(r.code, 0, r.out.slice(-2000));
    for (const re of expect) assert.match(r.out, re);
  });
}
