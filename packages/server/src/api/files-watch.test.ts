/**
 * Issue 18 (Files): `watch` on real crun + conmon: a recursive watch reports
 * creates, writes and deletes below a directory, including in directories
 * made after the watch started; the stream ends when the sandbox stops; the
 * per-tenant cap answers 429; a missing directory 404.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Nimbus } from "@nimbus/nimbus";
import { readNdjson } from "../testing/ndjson-watch.js";
import type { SandboxEnv } from "../testing/sandbox-env.js";
import { shIn, startSleeperSandbox } from "../testing/sleeper-sandbox.js";

const TENANT = "watch";
let env: SandboxEnv;
let nimbus: Nimbus;
let id = "";

const watchUrl = (path: string, recursive = true) =>
  `${env.srv.url}/api/tenants/${TENANT}/sandboxes/${id}/files/watch?path=${encodeURIComponent(path)}&recursive=${recursive}`;

const sh = (script: string) => shIn(nimbus, id, script);

before(async () => {
  ({ env, nimbus, id } = await startSleeperSandbox(TENANT));
});
after(async () => {
  await env?.close();
});

test("a recursive watch reports creates, writes and deletes, also in directories made after it started", async () => {
  await sh("mkdir -p /tmp/w/old");
  const w = await readNdjson(watchUrl("/tmp/w"), env.srv.token());
  assert.equal(w.status, 200);
  try {
    await sh("echo a > /tmp/w/old/f");
    await w.waitFor((l) => l.type === "create" && l.path === "/tmp/w/old/f" && l.directory === false);
    await w.waitFor((l) => l.type === "write_closed" && l.path === "/tmp/w/old/f");
    await sh("mkdir /tmp/w/new");
    await w.waitFor((l) => l.type === "create" && l.path === "/tmp/w/new" && l.directory === true);
    // The new directory is watched once the server saw it appear.
    await new Promise((r) => setTimeout(r, 500));
    await sh("echo b > /tmp/w/new/g && rm /tmp/w/new/g && mv /tmp/w/old/f /tmp/w/moved");
    await w.waitFor((l) => l.type === "create" && l.path === "/tmp/w/new/g");
    await w.waitFor((l) => l.type === "delete" && l.path === "/tmp/w/new/g");
    await w.waitFor((l) => l.type === "moved_from" && l.path === "/tmp/w/old/f");
    await w.waitFor((l) => l.type === "moved_to" && l.path === "/tmp/w/moved");
  } finally {
    w.close();
  }
});

test("a non-recursive watch sees only its own entries; a missing directory is 404; the cap is 429", async () => {
  await sh("mkdir -p /tmp/flat/sub");
  const w = await readNdjson(watchUrl("/tmp/flat", false), env.srv.token());
  try {
    await sh("touch /tmp/flat/sub/inner && touch /tmp/flat/top");
    await w.waitFor((l) => l.type === "create" && l.path === "/tmp/flat/top");
    assert.ok(!w.lines.some((l) => l.path === "/tmp/flat/sub/inner"), JSON.stringify(w.lines));
  } finally {
    w.close();
  }
  const missing = await readNdjson(watchUrl("/nope"), env.srv.token());
  assert.equal(missing.status, 404);
  await new Promise((r) => setTimeout(r, 200));
  const open = [];
  for (let i = 0; i < 4; i++) open.push(await readNdjson(watchUrl("/tmp"), env.srv.token()));
  const fifth = await readNdjson(watchUrl("/tmp"), env.srv.token());
  assert.equal(fifth.status, 429);
  for (const o of open) o.close();
});

test("the stream ends when the sandbox stops, and the watch lets its root go", async () => {
  const other = (await env.create(TENANT, ["sleep", "100000"])).metadata.id;
  await env.waitFor(TENANT, other, ["ready"]);
  const w = await readNdjson(`${env.srv.url}/api/tenants/${TENANT}/sandboxes/${other}/files/watch?path=/tmp&recursive=true`, env.srv.token());
  assert.equal(w.status, 200);
  const removed = await env.remove(TENANT, other);
  assert.ok(removed.status < 300, JSON.stringify(removed.body));
  await w.waitFor((l) => l.type === "end", 10_000);
  await w.ended;
});

test("the SDK's files.watch yields the changes until the loop is left", async () => {
  await sh("mkdir -p /tmp/sdk");
  const ac = new AbortController();
  const seen: string[] = [];
  const loop = (async () => {
    try {
      for await (const e of nimbus.files.watch({ sandboxId: id, path: "/tmp/sdk", signal: ac.signal })) {
        seen.push(`${e.type} ${e.path}`);
        if (e.type === "create") break;
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  await sh("touch /tmp/sdk/x");
  await loop;
  assert.deepEqual(seen, ["create /tmp/sdk/x"]);
});
