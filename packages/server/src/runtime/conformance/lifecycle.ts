// runtime/conformance/lifecycle.ts — lifecycle cases of the runtime conformance suite.
// Owns what the domain relies on: create → created, start → running, signal and
// wait with truthful exit info, idempotent delete that kills, typed errors, and
// containers that outlive their backend (a new instance on the same state dir
// finds them, including the real exit code of one that exited meanwhile).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import type { ConformanceContext } from "./suite.js";
import { isRuntimeError } from "../errors.js";
import { assertNoLeftovers } from "../leak-check.js";

const LOOP = "trap 'exit 143' TERM; while :; do sleep 0.1; done";

export function lifecycleCases(ctx: ConformanceContext): void {
  it("create leaves the process created but not running; start runs it", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("life-1", ["sh", "-c", "echo started; exit 7"], { annotations: { "nimbus/sandbox": "sb1" } }));
    const created = await b.state("life-1");
    assert.equal(created?.status, "created");
    assert.ok(created.pid && created.pid > 0, "a created container has an init pid");
    assert.deepEqual(created.annotations, { "nimbus/sandbox": "sb1" });
    await b.start("life-1");
    const exit = await b.wait("life-1");
    assert.equal(exit.exitCode, 7);
    assert.equal(exit.oomKilled, false);
    assert.equal(exit.signal, undefined);
    assert.ok(Date.parse(exit.finishedAt) > Date.now() - 60_000);
    const stopped = await b.state("life-1");
    assert.equal(stopped?.status, "stopped");
    assert.equal(stopped.exit?.exitCode, 7);
    assert.deepEqual(await b.wait("life-1"), exit, "wait after exit answers the same");
    await b.delete("life-1");
  });

  it("SIGTERM reaches the process and wait reports it; SIGKILL too", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("sig-term", ["sh", "-c", LOOP]));
    await b.create(ctx.spec("sig-kill", ["sleep", "600"]));
    await Promise.all([b.start("sig-term"), b.start("sig-kill")]);
    assert.equal((await b.state("sig-term"))?.status, "running");
    await new Promise((r) => setTimeout(r, 200)); // let the shell install its trap
    await b.signal("sig-term", "SIGTERM");
    await b.signal("sig-kill", "SIGKILL");
    const [term, kill] = await Promise.all([b.wait("sig-term"), b.wait("sig-kill")]);
    assert.equal(term.exitCode, 143);
    assert.equal(term.signal, "SIGTERM");
    assert.equal(kill.exitCode, 137);
    assert.equal(kill.signal, "SIGKILL");
    assert.equal(kill.oomKilled, false);
    await b.signal("sig-kill", "SIGKILL"); // signalling a stopped container is harmless
    await Promise.all([b.delete("sig-term"), b.delete("sig-kill")]);
  });

  it("delete kills a running container, is idempotent, and unknown ids are typed errors", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("del-1", ["sleep", "600"]));
    await b.start("del-1");
    const pid = (await b.state("del-1"))?.pid;
    assert.ok(pid);
    const waiting = b.wait("del-1").then(
      (e) => e,
      (e: unknown) => e,
    );
    await b.delete("del-1");
    assert.equal(existsSync(`/proc/${pid}`), false, "the process is gone");
    assert.equal(await b.state("del-1"), undefined);
    await b.delete("del-1");
    await b.delete("never-created");
    const waited = await waiting;
    assert.ok(isRuntimeError(waited, "not_found") || (waited as { exitCode?: number }).exitCode === 137);
    await assert.rejects(b.start("del-1"), (e) => isRuntimeError(e, "not_found"));
    await assert.rejects(b.signal("del-1", "SIGTERM"), (e) => isRuntimeError(e, "not_found"));
    await assert.rejects(b.wait("del-1"), (e) => isRuntimeError(e, "not_found"));
    await assert.rejects(b.state("../etc"), (e) => isRuntimeError(e, "invalid_spec"));
  });

  it("create refuses a reused id, and a failing create leaves nothing behind", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("dup-1", ["true"]));
    await assert.rejects(b.create(ctx.spec("dup-1", ["true"])), (e) => isRuntimeError(e, "already_exists"));
    await b.delete("dup-1");
    const bad = ctx.spec("bad-1", ["true"], { rootfs: { lowerDirs: ["/nonexistent/layer"] } });
    await assert.rejects(b.create(bad), (e) => isRuntimeError(e, "start_failed"));
    assert.equal(await b.state("bad-1"), undefined);
    // A missing executable fails at start (crun) or at create (runc); either way it is start_failed.
    const missing = ctx.spec("bad-2", ["/bin/no-such-program"]);
    await assert.rejects(
      b.create(missing).then(() => b.start("bad-2")),
      (e) => isRuntimeError(e, "start_failed"),
    );
    await b.delete("bad-2");
  });

  it("wait can be aborted without affecting the container", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("abort-1", ["sleep", "600"]));
    await b.start("abort-1");
    await assert.rejects(b.wait("abort-1", AbortSignal.timeout(300)), { name: "TimeoutError" });
    assert.equal((await b.state("abort-1"))?.status, "running");
    await b.delete("abort-1");
  });

  it("a new backend on the same state dir finds running and exited containers", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("keep-running", ["sleep", "600"], { annotations: { owner: "t1" } }));
    await b.create(ctx.spec("exits-meanwhile", ["sh", "-c", "sleep 0.5; exit 42"]));
    await b.create(ctx.spec("never-started", ["true"]));
    await Promise.all([b.start("keep-running"), b.start("exits-meanwhile")]);
    const b2 = ctx.restart(); // the old instance is dropped while both run
    await new Promise((r) => setTimeout(r, 1500));
    const byId = new Map((await b2.list()).map((s) => [s.id, s]));
    assert.equal(byId.get("keep-running")?.status, "running");
    assert.deepEqual(byId.get("keep-running")?.annotations, { owner: "t1" });
    assert.equal(byId.get("exits-meanwhile")?.status, "stopped");
    assert.equal(byId.get("exits-meanwhile")?.exit?.exitCode, 42);
    assert.equal(byId.get("never-started")?.status, "created");
    assert.equal((await b2.wait("exits-meanwhile")).exitCode, 42);
    for (const id of byId.keys()) await b2.delete(id);
    assert.deepEqual(await b2.list(), []);
  });

  // The 100-cycle acceptance runs through the API (e2e/sandbox-cycles); here a
  // shorter concurrent run per runtime keeps the suite fast. NIMBUS_RT_CYCLES raises it.
  const rounds = Math.ceil(Number(process.env.NIMBUS_RT_CYCLES ?? 24) / 4);
  it(`${rounds * 4} create → start → stop → delete cycles, 4 at a time, leave nothing behind`, async () => {
    const b = ctx.backend();
    const cycle = async (id: string) => {
      await b.create(ctx.spec(id, ["sh", "-c", LOOP]));
      await b.start(id);
      await b.signal(id, "SIGKILL");
      assert.equal((await b.wait(id)).exitCode, 137);
      await b.delete(id);
    };
    for (let round = 0; round < rounds; round++) {
      await Promise.all([0, 1, 2, 3].map((i) => cycle(`cycle-${round}-${i}`)));
    }
    assert.deepEqual(await b.list(), []);
    await assertNoLeftovers(ctx.stateDir()); // also checked after every case; here before afterEach's sweep
  });

  it("containers survive the Node process that created them exiting", { skip: !ctx.target.childModule }, async () => {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(ctx.target.childModule!)], {
      env: {
        ...process.env,
        NIMBUS_RT_CHILD_RUNTIME: ctx.target.name,
        NIMBUS_RT_CHILD_STATE: ctx.stateDir(),
        NIMBUS_RT_CHILD_LOWERS: JSON.stringify(ctx.lowerDirs()),
      },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(child.status, 0, `child failed: ${child.stderr}`);
    const b = ctx.restart();
    const st = await b.state("orphan-1");
    assert.equal(st?.status, "running", "the container outlived its creator");
    await b.delete("orphan-1");
  });
}
