/**
 * docs/capabilities.md stays true: every route the server answers and every
 * CLI command is listed, each row has a known status, and every row marked
 * Available (with or without caveats) names test files that exist.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "./commands/index.js";
import { startTestServer, type TestServer } from "../testing/server.js";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const src = fileURLToPath(new URL("../../src/", import.meta.url));
const doc = readFileSync(repo + "docs/capabilities.md", "utf8");
const STATUSES = ["Available", "Available with caveats", "Not yet"];

interface Row {
  capability: string;
  status: string;
  tests: string[];
}

const rows: Row[] = doc
  .split("\n")
  .filter((l) => l.startsWith("| ") && !l.startsWith("| Capability") && !l.startsWith("| ---"))
  .map((l) => {
    const cells = l.split(" | ").map((c) => c.replace(/^\| ?| ?\|$/g, "").trim());
    return {
      capability: cells[0]!,
      status: cells[1]!,
      tests: cells[2]
        ? cells[2]
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean)
        : [],
    };
  });
const listed = rows.map((r) => r.capability).join("\n");

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(() => srv.close());

test("every route the server answers is in the table", () => {
  const missing = srv.server.app.routes.map((r) => `\`${r.method} ${r.path.replace(/[:*]([A-Za-z]+)/g, "{$1}")}\``).filter((r) => !listed.includes(r));
  assert.deepEqual(missing, []);
});

test("every CLI command is in the table", () => {
  const missing = COMMANDS.map((c) => `\`nimbus ${c.path.join(" ")}\``).filter((c) => !listed.includes(c));
  assert.deepEqual(missing, []);
});

test("every row has a known status, and Available rows name tests that exist", () => {
  assert.ok(rows.length > 40);
  for (const r of rows) {
    assert.ok(STATUSES.includes(r.status), `${r.capability}: status \`${r.status}\``);
    if (r.status === "Not yet") continue;
    assert.ok(r.tests.length > 0, `${r.capability} is ${r.status} but names no test`);
    for (const t of r.tests) assert.ok(existsSync(src + t), `${r.capability}: ${t} does not exist`);
  }
});
