/**
 * docs/cli.md is generated from the commands' own help and must never drift:
 * regenerate it in memory and compare byte for byte, and check every
 * registered command has its section with its exact `--help` text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { COMMANDS } from "./commands/index.js";
import { formatHelp } from "./command.js";
import { CLI_DOC_PATH, renderCliDocs } from "./docs.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const docPath = join(repoRoot, CLI_DOC_PATH);

test("docs/cli.md is exactly what `npm run docs` generates from the commands' help", () => {
  const onDisk = readFileSync(docPath, "utf8");
  const generated = renderCliDocs();
  if (onDisk !== generated) {
    const a = onDisk.split("\n");
    const b = generated.split("\n");
    const i = a.findIndex((l, n) => l !== b[n]);
    const at = i === -1 ? Math.min(a.length, b.length) : i;
    assert.fail(
      `${CLI_DOC_PATH} is out of date (first difference at line ${at + 1}: have ${JSON.stringify(a[at])}, want ${JSON.stringify(b[at])}); run \`npm run docs\``,
    );
  }
});

test("every registered command has a section holding its --help text and an index row", () => {
  const doc = renderCliDocs();
  for (const c of COMMANDS) {
    const name = `nimbus ${c.path.join(" ")}`;
    assert.ok(doc.includes(`\n## ${name}\n\n\`\`\`text\n${formatHelp(c)}\n\`\`\`\n`), `${name}: section with its help`);
    assert.ok(doc.includes(`| [\`${name}\`](#nimbus-${c.path.join("-")}) |`), `${name}: index row`);
  }
  const sections = doc.split("\n").filter((l) => l.startsWith("## nimbus "));
  assert.equal(sections.length, COMMANDS.length, "one section per command, no extras");
});

test("a changed option shows up as a difference", () => {
  const [first, ...others] = COMMANDS;
  const changed = { ...first!, options: { ...first!.options, extra: { type: "boolean" as const, help: "a new option" } } };
  assert.notEqual(renderCliDocs([changed, ...others]), renderCliDocs());
});
