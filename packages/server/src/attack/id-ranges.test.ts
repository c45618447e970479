/**
 * Attack test for issue 15, finding 4 (uid 4294967296 runs as root).
 *
 * The attack: a tenant asks for a user id (or a limit, a port, a size) just
 * outside what the kernel and the runtime take, hoping it wraps: a uid of
 * 2^32 becomes 0 (root), a gid of 2^32 becomes group root, -1 means "no id",
 * 1e20 bytes overflow. Every such value must be refused at the API with a 400
 * `op.invalid_input` naming the field, before any container exists, on
 * sandbox create, service definitions and exec alike.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BUSYBOX, standaloneSandboxBody, startSandboxEnv, type SandboxEnv } from "../testing/sandbox-env.js";
import { execCall } from "../testing/exec-call.js";

let env: SandboxEnv;
let id = "";

before(async () => {
  env = await startSandboxEnv();
  await env.tenant("mallory");
  id = (await env.create("mallory", ["sleep", "1000"], { displayName: "target" })).metadata.id;
  await env.waitFor("mallory", id, ["ready"]);
});
after(async () => {
  if (id) await env?.remove("mallory", id);
  await env?.close();
});

const HOSTILE_USERS = [
  "4294967296", // 2^32: wraps to 0
  "4294967295", // (uid_t)-1: "no id"
  "8589934592", // 2^33: wraps to 0
  "9999999999",
  "-1",
  "1e20",
  "0x0",
  "00000000000000000000001",
  "0000000000",
  "+0",
  "0:4294967296", // gid wraps to 0
  "1000:4294967296",
  "1000:-1",
  "1000:0x0",
  "4294967296:1000",
  "0:0:0",
];

function sandboxBody(patch: { process?: Record<string, unknown>; resources?: Record<string, unknown>; ports?: unknown[] }) {
  return {
    ...standaloneSandboxBody(
      BUSYBOX,
      "hostile",
      { argv: ["id", "-u"], ...patch.process },
      { ...(patch.resources ? { resources: patch.resources } : {}), ...(patch.ports ? { ports: patch.ports } : {}) },
    ),
    labels: {},
  };
}

function assertRefused(r: { status: number; body: any }, field: string, what: string): void {
  assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.error.code, "op.invalid_input", what);
  assert.equal(
    String(r.body.error.detail?.field ?? "")
      .split(".")
      .slice(0, field.split(".").length)
      .join("."),
    field,
    `${what} names ${field}: ${JSON.stringify(r.body.error)}`,
  );
}

test("sandbox create: a hostile user is a 400 naming spec.process.user, and no sandbox is made", async () => {
  const before = (await env.srv.request("GET", "/api/tenants/mallory/sandboxes")).body.items.length;
  for (const user of HOSTILE_USERS) {
    const r = await env.srv.request("POST", "/api/tenants/mallory/sandboxes", { body: sandboxBody({ process: { user } }) });
    assertRefused(r, "spec.process.user", `user ${JSON.stringify(user)}`);
  }
  assert.equal((await env.srv.request("GET", "/api/tenants/mallory/sandboxes")).body.items.length, before, "no sandbox was recorded");
});

test("sandbox create: hostile limits and ports are 400s naming the field", async () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["huge memoryLimitBytes", { resources: { memoryLimitBytes: 1e20 } }, "spec.resources.memoryLimitBytes"],
    ["memoryLimitBytes past 2^53", { resources: { memoryLimitBytes: 2 ** 60 } }, "spec.resources.memoryLimitBytes"],
    ["negative memoryLimitBytes", { resources: { memoryLimitBytes: -1 } }, "spec.resources.memoryLimitBytes"],
    ["fractional memoryLimitBytes", { resources: { memoryLimitBytes: 67108864.5 } }, "spec.resources.memoryLimitBytes"],
    ["negative pidsLimit", { resources: { pidsLimit: -1 } }, "spec.resources.pidsLimit"],
    ["huge pidsLimit", { resources: { pidsLimit: 4294967296 } }, "spec.resources.pidsLimit"],
    ["zero cpuCount", { resources: { cpuCount: 0 } }, "spec.resources.cpuCount"],
    ["huge cpuCount", { resources: { cpuCount: 1e20 } }, "spec.resources.cpuCount"],
    ["huge diskLimitBytes", { resources: { diskLimitBytes: 1e20 } }, "spec.resources.diskLimitBytes"],
    ["negative diskLimitBytes", { resources: { diskLimitBytes: -1 } }, "spec.resources.diskLimitBytes"],
    ["port 70000", { ports: [{ port: 70000 }] }, "spec.ports.0.port"],
    ["port 0", { ports: [{ port: 0 }] }, "spec.ports.0.port"],
    ["port -1", { ports: [{ port: -1 }] }, "spec.ports.0.port"],
  ];
  for (const [what, patch, field] of cases) {
    const r = await env.srv.request("POST", "/api/tenants/mallory/sandboxes", { body: sandboxBody(patch) });
    assertRefused(r, field, what);
  }
});

test("service definitions: a hostile user is a 400 naming the field", async () => {
  for (const user of ["4294967296", "0:4294967296", "1e20"]) {
    const body = {
      metadata: { name: "hostile" },
      spec: { backend: { kind: "sandbox", sandbox: { ...sandboxBody({ process: { user } }).spec, owner: { kind: "service", serviceName: "hostile" } } } },
    };
    const r = await env.srv.request("POST", "/api/tenants/mallory/services", { body });
    assertRefused(r, "spec.backend.sandbox.process.user", `service user ${user}`);
  }
  assert.equal((await env.srv.request("GET", "/api/tenants/mallory/services/hostile")).status, 404);
});

test("exec: a hostile user is a 400 naming user; nothing runs as root", async () => {
  for (const user of HOSTILE_USERS) {
    const r = await execCall(env, "mallory", id, { argv: ["id", "-u"], user });
    assert.equal(r.status, 400, `user ${JSON.stringify(user)} ran: exit ${r.exitCode}, stdout ${JSON.stringify(r.stdout)}, error ${JSON.stringify(r.error)}`);
    assert.equal(r.error?.code, "op.invalid_input");
    assert.equal(r.error?.detail?.field, "user", JSON.stringify(r.error));
  }
  const edge = await execCall(env, "mallory", id, { argv: ["id", "-u"], user: "4294967294:4294967294" });
  assert.equal(edge.exitCode, 0, `the largest id is accepted: ${JSON.stringify(edge)}`);
  assert.equal(edge.stdout.trim(), "4294967294");
});

test("exec: hostile timeouts are 400s naming timeoutMs", async () => {
  for (const timeoutMs of [0, -1, 1e20, 3_600_001, 1.5]) {
    const r = await execCall(env, "mallory", id, { argv: ["true"], timeoutMs });
    assert.equal(r.status, 400, `timeoutMs ${timeoutMs}`);
    assert.equal(r.error?.detail?.field, "timeoutMs");
  }
});
