// What the test suite may leave on this host: conmon and registry processes,
// `nimbus start` servers, overlay mounts, temp dirs the tests make. The test
// runner snapshots this before the suite and fails if anything new remains.
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function processes() {
  const out = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue;
    }
    if (argv.length === 0) continue;
    const cmd = argv.join(" ");
    if (/(^|\/)conmon$/.test(argv[0]) || cmd.includes("docker-registry serve") || /nimbus\.js start/.test(cmd) || /(^|\/)socat$/.test(argv[0])) {
      out.push(`process ${pid}: ${cmd.slice(0, 160)}`);
    }
  }
  return out;
}

function mounts() {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(" overlay ") || l.includes("nimbus"))
    .map((l) => `mount: ${l.split(" ").slice(0, 3).join(" ")}`);
}

function tempDirs() {
  return readdirSync(tmpdir())
    .filter((n) => n.startsWith("nimbus-"))
    .map((n) => `temp dir: ${join(tmpdir(), n)}`);
}

export function hostSnapshot() {
  return [...processes(), ...mounts(), ...tempDirs()];
}

export function newSince(before, after) {
  const seen = new Set(before);
  return after.filter((l) => !seen.has(l));
}
