/**
 * stdio across a server restart: containers outlive the server, so a new
 * server joins a running main process's output (aligning conmon's log with
 * the live stream once it is quiet) and replays what was printed before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Nimbus } from "@nimbus/nimbus";
import { sandboxEnvForFile } from "../testing/sandbox-env-for-file.js";
import { collectStdout } from "../testing/stdout-collector.js";

const world = sandboxEnvForFile(["rs"]);

test("after a restart, attach replays output from before it and keeps going live", { timeout: 120_000 }, async () => {
  const { env } = world;
  const id = (await env.create("rs", ["sh", "-c", "echo before; while read x; do echo got-$x; done"], { displayName: "rs" })).metadata.id;
  await env.waitFor("rs", id, ["ready"]);
  await env.restart();
  const nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: "rs" });
  const s = await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["stdio"] });
  const a = await nimbus.sessions.attach({ id: s.metadata.id, channel: "stdio", cursor: 0 });
  const out = collectStdout(a);
  a.stdin.write("after\n");
  await out.until("before\ngot-after\n", 15_000);
  assert.equal(a.cursor, out.text.length);
  await a.close();
  await env.srv.request("DELETE", "/api/tenants/rs");
});
