// The dependency rule, as a check over the import graph (docs/architecture.md):
// imports go cli → api → domain → {store, images, runtime}, never back; the api
// layer reaches runtime and store only through the domain; nothing outside
// runtime/ imports a backend (runtime/container, runtime/fake) — the runtime's
// public surface is runtime/index.ts and runtime/backend.ts; the SDK imports
// nothing from the server. Tests, test helpers (testing/) and the composition
// root (server.ts) may reach further. The last test feeds the checker a
// violation, so a broken checker cannot pass silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const serverSrc = join(root, "packages/server/src");
const sdkSrc = join(root, "packages/nimbus/src");

/** Static and dynamic import specifiers of a TypeScript source. */
export function importsOf(source) {
  const out = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/g)) out.push(m[1]);
  for (const m of source.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]);
  return out;
}

function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** The top folder of a server source file (`api`, `domain`, …), or the file name at the top. */
const layerOf = (rel) => rel.split("/")[0].replace(/\.ts$/, "");

const RULES = [
  { from: "domain", banned: (to) => ["api", "cli"].includes(layerOf(to)), why: "domain may not import api or cli" },
  {
    from: ["store", "images", "runtime"],
    banned: (to) => ["api", "cli", "domain"].includes(layerOf(to)),
    why: "store, images and runtime never import domain, api or cli",
  },
  { from: "api", banned: (to) => ["runtime", "store"].includes(layerOf(to)), why: "api reaches runtime and store only through the domain" },
  {
    from: "*",
    banned: (to, from) => /^runtime\/(container|fake)\//.test(to) && !from.startsWith("runtime/"),
    why: "nothing outside runtime/ imports a backend",
  },
];
const EXEMPT = (rel) => rel.startsWith("testing/") || rel === "server.ts";

/** Every import of the server's sources that breaks a rule, as "from → to: why". */
export function serverViolations(files = sources(serverSrc).map((f) => [relative(serverSrc, f), readFileSync(f, "utf8")])) {
  const out = [];
  for (const [rel, text] of files) {
    if (EXEMPT(rel)) continue;
    for (const spec of importsOf(text)) {
      if (!spec.startsWith(".")) continue;
      const to = relative(serverSrc, resolve(serverSrc, dirname(rel), spec)).replace(/\.js$/, ".ts");
      for (const rule of RULES) {
        const applies = rule.from === "*" || [rule.from].flat().includes(layerOf(rel));
        if (applies && rule.banned(to, rel)) out.push(`${rel} → ${to}: ${rule.why}`);
      }
    }
  }
  return out;
}

test("the server's imports follow the layers", () => {
  assert.deepEqual(serverViolations(), []);
});

test("the SDK imports nothing from the server", () => {
  const bad = [];
  for (const f of sources(sdkSrc)) {
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      const target = spec.startsWith(".") ? resolve(dirname(f), spec) : spec;
      if (target.includes("packages/server") || spec.startsWith("@nimbus/server")) bad.push(`${relative(root, f)} → ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("the check finds a violation of each rule", () => {
  const found = serverViolations([
    ["domain/x.ts", 'import { route } from "../api/route.js";'],
    ["runtime/y.ts", 'import type { SandboxRow } from "../domain/sandboxes.js";'],
    ["api/z.ts", 'import { SandboxStore } from "../store/sandbox-store.js";'],
    ["domain/w.ts", 'import { ContainerBackend } from "../runtime/container/crun-backend.js";'],
  ]);
  assert.equal(found.length, 4, found.join("\n"));
});
