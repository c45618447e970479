/**
 * Acceptance 1 of issue 18: examples/agent/main.mjs, an agent-style script on
 * the SDK's handle API, runs against a real server (real crun) with the
 * egress-clients fixture (Debian minbase with python3 and bash) standing in
 * for `python:3.12`. Each step prints a line checked here, and the sandbox is
 * gone afterwards. docs/sdk.md quotes the example's regions word for word.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { buildEgressClientsImage } from "../testing/egress-clients-image.js";
import { FIXTURE_TAG, pushFixture } from "../testing/fixtures.js";
import { EXAMPLES_DIR, runExample } from "../testing/run-example.js";

const exampleDir = `${EXAMPLES_DIR}agent/`;
const T = "agent-example";
let env: SandboxEnv;

before(async () => {
  const layout = await buildEgressClientsImage();
  env = await startSandboxEnv();
  pushFixture(env.registry.backendHost, layout, "library/egress-clients", FIXTURE_TAG);
  await env.tenant(T);
});
after(() => env?.close());

test("examples/agent runs: python file, streamed worker with stdin and EOF, bash on a resized PTY, watch, tar download, cleanup", async () => {
  const r = await runExample("agent", {
    NIMBUS_ENDPOINT: env.srv.url,
    NIMBUS_TOKEN: env.srv.token(),
    NIMBUS_TENANT_ID: T,
    IMAGE: `egress-clients:${FIXTURE_TAG}`,
  });
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  const expect = [
    /^sandbox \S+ ready$/m,
    /^hello from python 3 exit 0$/m,
    /^worker: working 0$/m,
    /^worker exit 0 "stdin closed, done"$/m,
    /^terminal sizes 24 80, 40 120$/m,
    /^watched \/app\/out\/alpha\.txt, \/app\/out\/beta\.txt$/m,
    /^downloaded 2 files as \d+ bytes of tar$/m,
    /^sandbox deleted$/m,
  ];
  for (const re of expect) assert.match(r.out, re);
  assert.deepEqual((await env.srv.request("GET", `/api/tenants/${T}/sandboxes`)).body.items, [], "the example deleted its sandbox");
});

test("docs/sdk.md's handle examples are the example's regions, word for word", () => {
  const example = readFileSync(`${exampleDir}main.mjs`, "utf8");
  const doc = readFileSync(`${EXAMPLES_DIR}../docs/sdk.md`, "utf8");
  const regions = [...example.matchAll(/^ *\/\/ #region (\w+)\n([\s\S]*?)^ *\/\/ #endregion \1$/gm)];
  assert.deepEqual(
    regions.map((m) => m[1]),
    ["create", "run", "watch", "start", "pty", "download"],
  );
  for (const [, name, body] of regions) {
    const indent = Math.min(
      ...body!
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => l.length - l.trimStart().length),
    );
    const code = body!
      .split("\n")
      .map((l) => l.slice(indent))
      .join("\n");
    assert.ok(doc.includes(code), `docs/sdk.md lacks the "${name}" region of examples/agent/main.mjs:\n${code}`);
  }
});
