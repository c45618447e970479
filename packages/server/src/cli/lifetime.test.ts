/**
 * Lifetimes on the command line, on the built binary against a real
 * `nimbus start` (crun + conmon, busybox from a loopback registry):
 * `sandbox create --ttl --idle-timeout --on-expire --init`, `sandbox extend`,
 * `sandbox rm --force` of a PID 1 that ignores SIGTERM, and `tenant lifetime
 * get|set`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { useCliWorld } from "../testing/cli-world.js";

const w = useCliWorld("cli-lifetime");

test("create --ttl --idle-timeout --on-expire --init, then extend --by and --until", async () => {
  const r = await w.nimbus(
    "sandbox",
    "create",
    "busybox",
    "--wait",
    "--json",
    "--ttl",
    "10m",
    "--idle-timeout",
    "90s",
    "--on-expire",
    "delete",
    "--init",
    "--",
    "sleep",
    "1000",
  );
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.spec.sandbox.lifetime, { ttlSeconds: 600, idleTimeoutSeconds: 90, onExpire: "delete" });
  assert.equal(s.spec.sandbox.process.init, true);
  const id = s.metadata.id;
  const before = Date.parse(s.status.expiresAt);

  const by = await w.nimbus("sandbox", "extend", id, "--by", "5m");
  assert.equal(by.code, 0, by.stderr);
  const printed = /expires at (\S+)/.exec(by.stdout)?.[1];
  assert.equal(Date.parse(printed ?? ""), before + 300_000);
  const target = new Date(Date.now() + 3_600_000).toISOString();
  const until = await w.nimbus("sandbox", "extend", id, "--until", target, "--json");
  assert.equal(until.code, 0, until.stderr);
  assert.equal(JSON.parse(until.stdout).status.expiresAt, target);

  const neither = await w.nimbus("sandbox", "extend", id);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /give one of --by DURATION or --until TIME/);
  const tooFar = await w.nimbus("sandbox", "extend", id, "--by", "200h");
  assert.equal(tooFar.code, 1);
  assert.match(tooFar.stderr, /604800/);
  const badTtl = await w.nimbus("sandbox", "create", "busybox", "--ttl", "1500ms");
  assert.equal(badTtl.code, 2);
  assert.match(badTtl.stderr, /--ttl: give whole seconds/);

  // With init, SIGTERM reaches `sleep`; `rm` is quick even with the default grace.
  const t0 = Date.now();
  assert.equal((await w.nimbus("sandbox", "rm", id)).code, 0);
  assert.ok(Date.now() - t0 < 5_000, `rm of an init sandbox took ${Date.now() - t0} ms`);
});

test("rm --force of a PID 1 that ignores SIGTERM is immediate; --time and --force do not mix", async () => {
  const r = await w.nimbus("sandbox", "create", "busybox", "--wait", "--", "sleep", "1000");
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const both = await w.nimbus("sandbox", "rm", id, "--time", "0", "--force");
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give one of --grace, --time or --force/);
  const t0 = Date.now();
  const rm = await w.nimbus("sandbox", "rm", id, "--force");
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(Date.now() - t0 < 4_000, `rm --force took ${Date.now() - t0} ms`);
});

test("tenant lifetime set, get (table and JSON), and --clear", async () => {
  const set = await w.nimbus("tenant", "lifetime", "set", w.tenant, "--ttl", "2h", "--idle-timeout", "15m", "--on-expire", "delete");
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /ttl\s+7200s/);
  assert.match(set.stdout, /idle-timeout\s+900s/);
  assert.match(set.stdout, /on-expire\s+delete/);
  const got = JSON.parse((await w.nimbus("tenant", "lifetime", "get", w.tenant, "--json")).stdout);
  assert.deepEqual(got.lifetime, { ttlSeconds: 7200, idleTimeoutSeconds: 900, onExpire: "delete" });
  const none = await w.nimbus("tenant", "lifetime", "set", w.tenant);
  assert.equal(none.code, 2);
  const cleared = await w.nimbus("tenant", "lifetime", "set", w.tenant, "--clear", "--json");
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.deepEqual(JSON.parse(cleared.stdout).lifetime, {});
});
