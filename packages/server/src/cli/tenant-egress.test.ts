/** `nimbus tenant egress get|set` on the built binary against a running server. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNimbus } from "../testing/cli.js";
import { useCliServerWithTenant } from "../testing/cli-tenant-server.js";

const { env } = useCliServerWithTenant("demo");

test("get shows the default; set replaces it; a bad port is a clear error", async () => {
  const d = await runNimbus(["tenant", "egress", "get", "demo"], env);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /hosts:\s+\*\nports:\s+80, 443\naddresses: not allowed\s+\(the default ceiling\)/);
  const set = await runNimbus(["tenant", "egress", "set", "demo", "--host", "*.corp.test", "--port", "443", "--port", "8000-8099"], env);
  assert.equal(set.code, 0, set.stderr);
  const json = JSON.parse((await runNimbus(["tenant", "egress", "get", "demo", "--json"], env)).stdout);
  assert.deepEqual([json.hosts, json.ports, json.custom], [["*.corp.test"], [443, "8000-8099"], true]);
  const bad = await runNimbus(["tenant", "egress", "set", "demo", "--host", "*", "--port", "99999"], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /op\.invalid_input/);
});
