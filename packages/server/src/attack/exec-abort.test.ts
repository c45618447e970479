/**
 * Attack test for issue 15 finding 11 (execs are unbounded), by way of issue
 * 18: a tenant capped at 2 concurrent execs starts execs and aborts each
 * request at once. The slot comes back when the request ends, so on the old
 * code every aborted exec (and anything it forked into the background) kept
 * running, and the tenant could run any number of processes past its cap.
 * Now an aborted exec is killed with its whole process group, as is a process
 * of the processes API that was not started with `detach` when its reader
 * aborts.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { execCall } from "../testing/exec-call.js";

let env: SandboxEnv;
let id = "";
let key = "";
const T = "aborter";

before(async () => {
  env = await startSandboxEnv();
  await env.tenant(T);
  key = (await env.srv.request("POST", `/api/tenants/${T}/api-keys`, { body: {} })).body.key;
  const put = await env.srv.request("PUT", `/api/tenants/${T}/limits`, { body: { maxExecs: 2 } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  id = (await env.create(T, ["sleep", "100000"])).metadata.id;
  await env.waitFor(T, id, ["ready"]);
});
after(async () => {
  await env?.close();
});

/** Processes in the sandbox whose command line starts with `prefix`. */
async function running(prefix: string): Promise<number> {
  const r = await execCall(env, T, id, { argv: ["ps", "-o", "args"] });
  return r.stdout.split("\n").filter((l) => l.trim().startsWith(prefix)).length;
}

async function settle(prefix: string): Promise<number> {
  const deadline = Date.now() + 5_000;
  let n = await running(prefix);
  while (n > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    n = await running(prefix);
  }
  return n;
}

test("aborting exec requests does not leave their processes (or their children) running past the cap", async () => {
  for (let i = 0; i < 4; i++) {
    const ac = new AbortController();
    const res = await fetch(`${env.srv.url}/api/tenants/${T}/sandboxes/${id}/exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ argv: ["sh", "-c", `sleep 900${i} & sleep 910${i}; wait`] }),
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 300)); // it runs
    ac.abort();
  }
  assert.equal(await settle("sleep 9"), 0, "every aborted exec and its background child were killed");
});

test("aborting the reader of a process started without detach kills its process group", async () => {
  const base = `/api/tenants/${T}/sandboxes/${id}/processes`;
  for (let i = 0; i < 3; i++) {
    const started = await env.srv.request("POST", base, { body: { cmd: `sleep 800${i} & sleep 810${i}; wait` }, headers: { authorization: `Bearer ${key}` } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const ac = new AbortController();
    const res = await fetch(`${env.srv.url}${base}/${started.body.id}/stream`, { headers: { authorization: `Bearer ${key}` }, signal: ac.signal });
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
  }
  assert.equal(await settle("sleep 8"), 0, "every abandoned process and its background child were killed");
});
