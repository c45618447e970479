/**
 * The wire schemas say what the server really answers (issue 16, one
 * source of wire types): on real crun + conmon, every resource a tenant
 * meets on one ordinary walk (tenant key, sandbox with a declared port,
 * exec, sessions, a sandbox service and a declared one, a restart receipt,
 * limits, the egress log, the event stream and an error) is checked
 * against the schema its route declares, which is also what the SDK's
 * generated types say. A field the server adds or drops without its schema
 * fails here, since the schemas are strict.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import "./formats.js";
import { Value } from "@sinclair/typebox/value";
import { startSandboxEnv, BUSYBOX, type SandboxEnv } from "../testing/sandbox-env.js";
import { until } from "../testing/until.js";
import { execFrames } from "../testing/exec-call.js";
import { collectionOf, ErrorEnvelopeSchema, strictObject } from "./schemas/common.js";
import { WIRE_SCHEMAS as W } from "./schemas/wire.js";
import { EventLineSchema } from "./schemas/event.js";

const TENANT = "wire";
let env: SandboxEnv;
let events: AbortController;
const eventLines: unknown[] = [];

before(async () => {
  env = await startSandboxEnv();
  await env.tenant(TENANT);
  events = new AbortController();
  void readEvents(events.signal);
});
after(async () => {
  events?.abort();
  await env?.close();
});

async function readEvents(signal: AbortSignal): Promise<void> {
  try {
    const res = await fetch(`${env.srv.url}/api/tenants/${TENANT}/events`, { headers: { authorization: `Bearer ${env.srv.token()}` }, signal });
    let buf = "";
    for await (const chunk of res.body!) {
      buf += Buffer.from(chunk).toString("utf8");
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        if (i > 0) eventLines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    }
  } catch {
    /* aborted at the end */
  }
}

function conforms(schema: TSchema, value: unknown, what: string): void {
  const errors = [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path}: ${e.message} (${JSON.stringify(e.value)})`);
  assert.deepEqual(errors, [], `${what} does not match its schema:\n${JSON.stringify(value, null, 2)}`);
}

async function call(method: string, path: string, status: number, schema: TSchema, body?: unknown): Promise<any> {
  const r = await env.srv.request(method, path, body === undefined ? {} : { body });
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  conforms(schema, r.body, `${method} ${path}`);
  return r.body;
}

const T = `/api/tenants/${TENANT}`;
const sandboxSpec = (argv: string[]) => ({
  owner: { kind: "service" },
  backend: "container",
  root: { kind: "oci_image", source: { kind: "reference", reference: BUSYBOX } },
  process: { argv, env: ["A=1"], cwd: "/" },
  ports: [{ name: "http", port: 8080, protocol: "http" }],
});

test("sandboxes, exec, sessions, services, tenants, the event stream and errors answer what their schemas say", async () => {
  await call("POST", `${T}/api-keys`, 201, W.CreatedApiKey!, { name: "ci" });
  await call("POST", `${T}/api-keys`, 201, W.CreatedApiKey!, {});
  await call("GET", `${T}/api-keys`, 200, strictObject({ items: Type.Array(W.ApiKey!) }));
  await call("GET", `${T}/limits`, 200, W.TenantLimitsView!);

  const created = await call("POST", `${T}/sandboxes`, 201, W.Sandbox!, {
    profile: "worker",
    spec: { ...sandboxSpec(["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 & wait"]), owner: { kind: "standalone", displayName: "wire" } },
    labels: { purpose: "wire" },
  });
  const id = created.metadata.id;
  const ready = await env.waitFor(TENANT, id, ["ready", "failed"]);
  assert.equal(ready.status.lifecycleState, "ready", JSON.stringify(ready.status));
  // The endpoint appears once something listens on the declared port.
  await until(
    "the declared port to become an endpoint",
    async () => (await env.srv.request("GET", `${T}/sandboxes/${id}`)).body,
    (s) => s.status.endpoints.length === 1,
    15_000,
  );
  await call("GET", `${T}/sandboxes/${id}`, 200, W.Sandbox!);
  await call("GET", `${T}/sandboxes?limit=5`, 200, collectionOf(W.Sandbox!));
  await call("GET", `${T}/sandboxes/${id}/egress`, 200, collectionOf(W.EgressLogEntry!));

  const frames = await execFrames(env, TENANT, id, { argv: ["sh", "-c", "echo out; echo err >&2; exit 3"] });
  for (const f of frames) conforms(W.ExecFrame!, f, "an exec frame");
  assert.deepEqual(frames.at(-1), { kind: "exit", code: 3 });

  const session = await call("POST", "/api/sessions", 201, W.Session!, { tenantId: TENANT, target: { sandbox: { id } }, channels: ["stdio", "exec"] });
  const sid = session.metadata.id;
  await call("GET", `/api/sessions/${sid}?tenantId=${TENANT}`, 200, W.Session!);
  await call("GET", `/api/sessions?tenantId=${TENANT}&state=open`, 200, collectionOf(W.Session!));
  await call("POST", `/api/sessions/${sid}/renew`, 200, W.Session!, { tenantId: TENANT, requestedTtlMs: 60_000 });
  await call("POST", `/api/sessions/${sid}/close?tenantId=${TENANT}`, 200, W.Session!, { reason: "done" });

  await call("POST", `${T}/services`, 201, W.ServiceDefinition!, {
    metadata: { name: "web", labels: { team: "a" } },
    spec: {
      backend: { kind: "sandbox", sandbox: sandboxSpec(["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 & wait"]) },
      restartPolicy: "never",
      readinessProbe: { tcp: { port: 8080 }, periodMs: 100 },
    },
  });
  await call("POST", `${T}/services`, 201, W.ServiceDefinition!, {
    metadata: { name: "db" },
    spec: { backend: { kind: "external", url: "https://db.example.com/v1" } },
  });
  await call("GET", `${T}/services/db`, 200, W.ServiceView!);
  await call("POST", `${T}/services/web/start`, 200, W.ServiceView!, {});
  const running = await until(
    "the service to run",
    async () => (await env.srv.request("GET", `${T}/services/web`)).body,
    (v) => v.state === "running" || v.state === "failed",
    30_000,
  );
  assert.equal(running.state, "running", JSON.stringify(running));
  conforms(W.ServiceView!, running, "a running service's view");
  const svcSession = await call("POST", "/api/sessions", 201, W.Session!, { tenantId: TENANT, target: { service: { name: "web" } }, channels: ["stdio"] });
  await call("POST", `/api/sessions/${svcSession.metadata.id}/close?tenantId=${TENANT}`, 200, W.Session!, {});
  await call("POST", `${T}/services/web/restart`, 202, W.ServiceRestartReceipt!, { sourceGeneration: 1, requestId: "deploy-1" });
  await call("GET", `${T}/services?limit=10`, 200, collectionOf(W.ServiceView!));
  await call("POST", `${T}/services/web/stop`, 200, W.ServiceView!, { gracePeriodMs: 0 });
  assert.equal((await env.srv.request("DELETE", `${T}/services/web?ifMatchGeneration=1`)).status, 204);

  await call("POST", `${T}/sandboxes/${id}/stop`, 200, W.Sandbox!, { gracePeriodMs: 0 });
  await call("GET", `${T}/sandboxes/nope`, 404, ErrorEnvelopeSchema);
  await call("POST", `${T}/sandboxes`, 400, ErrorEnvelopeSchema, { profile: "worker", spec: {} });

  const kinds = await until(
    "sandbox, session and service events",
    async () => new Set(eventLines.map((e: any) => e.type)),
    (s) => s.has("sandbox") && s.has("session") && s.has("service"),
    10_000,
  );
  assert.ok(kinds.size >= 3);
  for (const line of eventLines) conforms(EventLineSchema, line, "an event line");
  await env.remove(TENANT, id);
});
