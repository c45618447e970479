/**
 * Attack test for issue 15 finding 11 (sessions, sockets and execs are
 * unbounded): a tenant with its own API key opens sessions, WebSocket
 * connections, concurrent execs and image pulls until the server runs out of
 * something everyone shares. With small caps, one past each cap answers 429
 * `rate.resource_exhausted` naming the limit (message and detail), the slot
 * comes back when the use ends, and another tenant is unaffected.
 * On the old code every one of these requests succeeds.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { BUSYBOX, standaloneSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";

let env: SandboxEnv;
const keys: Record<string, string> = {};

before(async () => {
  // Server-wide defaults for sessions and WebSockets; execs and pulls are pinned per tenant below.
  env = await startSandboxEnv({ flags: { tenantMaxSessions: "2", tenantMaxWebSockets: "2" } });
  for (const t of ["greedy", "other"]) {
    await env.tenant(t);
    keys[t] = (await env.srv.request("POST", `/api/tenants/${t}/api-keys`, { body: {} })).body.key;
  }
  const put = await env.srv.request("PUT", "/api/tenants/greedy/limits", { body: { maxExecs: 2, maxPulls: 1 } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
});
after(async () => {
  await env?.close();
});

const as = (t: string) => ({ authorization: `Bearer ${keys[t]}` });
const req = (t: string, method: string, path: string, body?: unknown) => env.srv.request(method, path, { body, headers: as(t) });

function assertCap(r: { status: number; body: any }, limitName: string): void {
  assert.equal(r.status, 429, JSON.stringify(r.body));
  assert.equal(r.body.error.code, "rate.resource_exhausted");
  assert.equal(r.body.error.detail.limitName, limitName);
  assert.match(r.body.error.message, new RegExp(`limit ${limitName}`));
}

const createBody = (argv: string[], reference = BUSYBOX) => standaloneSandboxBody(reference, "cap", { argv });

let greedyBox = "";
let otherBox = "";

test("finding 11: one pull past maxPulls is 429; another tenant's pull goes ahead", { timeout: 60_000 }, async () => {
  // The image is not in the store yet: each create pulls while `pending`.
  const first = await req("greedy", "POST", "/api/tenants/greedy/sandboxes", createBody(["sleep", "600"]));
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.status.lifecycleState, "pending");
  greedyBox = first.body.metadata.id;
  // A second image while the first is still being pulled is one pull too many…
  const second = await req("greedy", "POST", "/api/tenants/greedy/sandboxes", createBody(["sleep", "600"], "docker.io/library/busybox:1.36"));
  // …while another sandbox of the same image shares its pull.
  const sharing = await req("greedy", "POST", "/api/tenants/greedy/sandboxes", createBody(["sleep", "600"]));
  const others = await req("other", "POST", "/api/tenants/other/sandboxes", createBody(["sleep", "600"]));
  assert.equal(others.status, 201, JSON.stringify(others.body));
  otherBox = others.body.metadata.id;
  assertCap(second, "maxPulls");
  assert.equal(sharing.status, 201, JSON.stringify(sharing.body));
  assert.equal(sharing.body.status.lifecycleState, "pending");
  await env.waitFor("greedy", sharing.body.metadata.id, ["ready", "failed"]);
  await env.remove("greedy", sharing.body.metadata.id);
  assert.equal((await env.waitFor("greedy", greedyBox, ["ready", "failed"])).status.lifecycleState, "ready");
  assert.equal((await env.waitFor("other", otherBox, ["ready", "failed"])).status.lifecycleState, "ready");
});

test("finding 11: one exec past maxExecs is 429 while two run; another tenant's exec completes; the slot comes back", { timeout: 60_000 }, async () => {
  const exec = (t: string, id: string, argv: string[]) =>
    fetch(`${env.srv.url}/api/tenants/${t}/sandboxes/${id}/exec`, {
      method: "POST",
      headers: { ...as(t), "content-type": "application/json" },
      body: JSON.stringify({ argv }),
    });
  const running = [exec("greedy", greedyBox, ["sleep", "3"]), exec("greedy", greedyBox, ["sleep", "3"])];
  const heads = await Promise.all(running);
  assert.deepEqual(
    heads.map((r) => r.status),
    [200, 200],
  );
  const third = await req("greedy", "POST", `/api/tenants/greedy/sandboxes/${greedyBox}/exec`, { argv: ["true"] });
  assertCap(third, "maxExecs");
  const theirs = await req("other", "POST", `/api/tenants/other/sandboxes/${otherBox}/exec`, { argv: ["echo", "fine"] });
  assert.equal(theirs.status, 200);
  await Promise.all(heads.map((r) => r.text()));
  const again = await req("greedy", "POST", `/api/tenants/greedy/sandboxes/${greedyBox}/exec`, { argv: ["true"] });
  assert.equal(again.status, 200, JSON.stringify(again.body));
});

test("finding 11: one session past maxSessions is 429; another tenant opens one", async () => {
  const open = (t: string, id: string) => req(t, "POST", "/api/sessions", { tenantId: t, target: { sandbox: { id } }, channels: ["stdio"] });
  const a = await open("greedy", greedyBox);
  const b = await open("greedy", greedyBox);
  assert.deepEqual([a.status, b.status], [201, 201]);
  assertCap(await open("greedy", greedyBox), "maxSessions");
  assert.equal((await open("other", otherBox)).status, 201);
  // Closing one frees its slot.
  assert.equal((await req("greedy", "POST", `/api/sessions/${b.body.metadata.id}/close?tenantId=greedy`, {})).status, 200);
  const c = await open("greedy", greedyBox);
  assert.equal(c.status, 201, JSON.stringify(c.body));
});

test("finding 11: one WebSocket past maxWebSockets is refused with 429 naming it; another tenant connects", { timeout: 30_000 }, async () => {
  const sessionOf = async (t: string, id: string) => {
    const listed = await req(t, "GET", `/api/sessions?tenantId=${t}`);
    return listed.body.items.find((s: any) => s.status.lifecycleState === "open" && s.spec.target.sandbox.id === id).metadata.id as string;
  };
  const connect = (t: string, sid: string) =>
    new Promise<{ ws?: WebSocket; status?: number; body?: any }>((resolve, reject) => {
      const ws = new WebSocket(`${env.srv.url.replace(/^http/, "ws")}/api/sessions/${sid}/channels/stdio?tenantId=${t}`, { headers: as(t) });
      ws.once("open", () => resolve({ ws }));
      ws.once("unexpected-response", (_req, res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
      });
      ws.once("error", reject);
    });
  const sid = await sessionOf("greedy", greedyBox);
  const one = await connect("greedy", sid);
  const two = await connect("greedy", sid);
  assert.ok(one.ws && two.ws);
  const three = await connect("greedy", sid);
  assertCap({ status: three.status!, body: three.body }, "maxWebSockets");
  const theirs = await connect("other", await sessionOf("other", otherBox));
  assert.ok(theirs.ws, "the other tenant connects");
  theirs.ws!.close();
  // A closed connection gives its slot back.
  await new Promise<void>((r) => {
    one.ws!.once("close", () => r());
    one.ws!.close();
  });
  let four: Awaited<ReturnType<typeof connect>> = {};
  for (let i = 0; i < 40 && !four.ws; i++) {
    four = await connect("greedy", sid);
    if (!four.ws) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(four.ws, "a slot frees when a connection closes");
  two.ws!.close();
  four.ws!.close();
});
