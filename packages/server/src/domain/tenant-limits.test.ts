/**
 * Tenant limits and caps on SQLite and the fake backend: host-derived
 * defaults, pin and unpin, the runtime group getting new ceilings, the
 * limits going with the tenant, and counted caps releasing their slots.
 */
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { TenantStore } from "../store/tenant-store.js";
import { TenantLimitsStore } from "../store/tenant-limits-store.js";
import { FakeBackend } from "../runtime/fake/fake-backend.js";
import { fakeContainerSpec } from "../testing/fake-container-spec.js";
import { Tenants } from "./tenants.js";
import { TenantLimitsService, groupName, resolveDefaults, type TenantLimits } from "./tenant-limits.js";
import { TenantCaps } from "./tenant-caps.js";
import { AppError } from "./errors.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";

const GiB = 1024 ** 3;
const CONFIGURED: TenantLimits = {
  memoryLimitBytes: 0,
  cpuCount: 0,
  pidsLimit: 0,
  maxSandboxes: 64,
  maxSessions: 256,
  maxWebSockets: 128,
  maxExecs: 32,
  maxPulls: 4,
};
let tmp: TempDb;
let tenants: Tenants;
let runtime: FakeBackend;
let limits: TenantLimitsService;

beforeEach(() => {
  tmp = openTempDb("nimbus-limits-");
  tenants = new Tenants(new TenantStore(tmp.db));
  runtime = new FakeBackend();
  const defaults = resolveDefaults(CONFIGURED, { memoryBytes: 8 * GiB, cpuCount: 4, pidMax: 4_194_304 });
  limits = new TenantLimitsService({ store: new TenantLimitsStore(tmp.db), runtime, defaults, requireTenant: (t) => tenants.require(t), maxCpuCount: 4 });
  tenants.create("acme");
});
afterEach(() => {
  tmp.close();
});

test("defaults come from the host: 75% of RAM, every core, a quarter of pid_max", () => {
  const { defaults, limits: effective, overrides } = limits.view("acme");
  assert.equal(defaults.memoryLimitBytes, 6 * GiB);
  assert.equal(defaults.cpuCount, 4);
  assert.equal(defaults.pidsLimit, 1_048_576);
  assert.deepEqual(effective, defaults);
  assert.deepEqual(overrides, {});
});

test("set pins fields, writes the group's ceilings, and null unpins", async () => {
  await runtime.create(fakeContainerSpec("box", { group: limits.group("acme") }));
  const view = await limits.set("acme", { memoryLimitBytes: GiB, maxExecs: 2 });
  assert.equal(view.limits.memoryLimitBytes, GiB);
  assert.deepEqual(view.overrides, { memoryLimitBytes: GiB, maxExecs: 2 });
  assert.equal(runtime.host.groups.get(groupName("acme"))?.memoryLimitBytes, GiB);
  assert.equal(limits.of("acme").maxExecs, 2);
  const back = await limits.set("acme", { memoryLimitBytes: null });
  assert.deepEqual(back.overrides, { maxExecs: 2 });
  assert.equal(back.limits.memoryLimitBytes, 6 * GiB);
});

test("a CPU ceiling above the host's cores is invalid input; an unknown tenant is not found", async () => {
  await assert.rejects(limits.set("acme", { cpuCount: 5 }), (e: unknown) => e instanceof AppError && e.code === "op.invalid_input");
  await assert.rejects(limits.set("nobody", { cpuCount: 1 }), (e: unknown) => e instanceof AppError && e.code === "op.not_found");
});

test("the pinned limits go with the tenant", async () => {
  await limits.set("acme", { maxSessions: 3 });
  await limits.forget("acme");
  await tenants.delete("acme");
  tenants.create("acme");
  assert.deepEqual(limits.view("acme").overrides, {});
});

test("counted caps: one past the cap is 429 naming it; release gives the slot back once", () => {
  const caps = new TenantCaps(() => ({ ...CONFIGURED, maxExecs: 2 }));
  const a = caps.acquire("acme", "maxExecs");
  caps.acquire("acme", "maxExecs");
  assert.throws(
    () => caps.acquire("acme", "maxExecs"),
    (e: unknown) => e instanceof AppError && e.code === "rate.resource_exhausted" && (e.detail as any).limitName === "maxExecs",
  );
  caps.acquire("other", "maxExecs");
  a();
  a();
  caps.acquire("acme", "maxExecs");
  assert.throws(() => caps.acquire("acme", "maxExecs"));
});
