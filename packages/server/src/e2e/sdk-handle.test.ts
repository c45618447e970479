/**
 * The SDK's handle API (issue 18) against a real server and real crun
 * sandboxes: the short form `create({ image })` waits for ready and returns
 * a handle; commands run with text output and live callbacks; files are
 * written and read back; `await using` deletes the sandbox when the scope
 * ends; a sandbox that cannot start is not left behind.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Nimbus, NimbusConflictError, SandboxHandle } from "@nimbus/nimbus";
import { startSandboxEnv, BUSYBOX, type SandboxEnv } from "../testing/sandbox-env.js";

let env: SandboxEnv;
let nimbus: Nimbus;
const T = "handles";

before(async () => {
  env = await startSandboxEnv();
  await env.tenant(T);
  nimbus = new Nimbus({ endpoint: env.srv.url, token: env.srv.token(), tenantId: T });
});
after(async () => {
  await env?.close();
});

const listIds = async () => (await nimbus.sandboxes.list({})).items.map((s) => s.metadata.id);

test("create({ image }) returns a ready handle; commands run with text output, callbacks and exit codes; files round-trip", async () => {
  const sb = await nimbus.sandboxes.create({ image: BUSYBOX, name: "handle", env: { GREETING: "hello", SHADOWED: "sandbox" } });
  try {
    assert.ok(sb instanceof SandboxHandle);
    assert.equal(sb.state, "ready");
    const seen: string[] = [];
    // Commands inherit the sandbox's environment (as docker exec does); what a command sets wins.
    const r = await sb.commands.run("echo $GREETING; echo oops >&2; exit 3", { onStdout: (s) => seen.push(s) });
    assert.deepEqual(r, { stdout: "hello\n", stderr: "oops\n", exitCode: 3 });
    assert.equal(seen.join(""), "hello\n");
    assert.equal((await sb.commands.run("echo $SHADOWED", { env: { SHADOWED: "command" } })).stdout, "command\n");
    assert.match((await sb.commands.run("echo $PATH")).stdout, /\/bin/);
    assert.equal((await sb.commands.run(["cat"], { stdin: "fed" })).stdout, "fed");
    assert.equal((await sb.commands.run("pwd", { cwd: "/tmp" })).stdout, "/tmp\n");
    await sb.files.write("/tmp/main.sh", "echo from-file\n");
    assert.equal(await sb.files.read("/tmp/main.sh"), "echo from-file\n");
    assert.deepEqual(await sb.files.read("/tmp/main.sh", { format: "bytes" }), Buffer.from("echo from-file\n"));
    assert.equal((await sb.commands.run("sh /tmp/main.sh")).stdout, "from-file\n");
    // No TTL unless asked; extend sets one from now.
    assert.equal(sb.resource.status.expiresAt ?? undefined, undefined);
    const t1 = Date.now();
    const extended = await sb.extend(600);
    const expiresInS = (Date.parse(extended.status.expiresAt!) - t1) / 1000;
    assert.ok(expiresInS > 590 && expiresInS < 610, `expires in ${expiresInS} s`);
    // A second handle to the same sandbox sees the same world.
    const again = await nimbus.sandboxes.connect({ id: sb.id });
    assert.equal(await again.files.read("/tmp/main.sh"), "echo from-file\n");
    // The keep-alive main process ends at once on stop.
    const t0 = Date.now();
    const stopped = await sb.stop();
    assert.ok(["stopping", "stopped"].includes(stopped.status.lifecycleState));
    await sb.wait("stopped", { timeoutMs: 10_000 });
    assert.equal(sb.resource.status.exitCode, 0, "the default process exits 0 on SIGTERM");
    assert.ok(Date.now() - t0 < 8_000, `stopped after ${Date.now() - t0} ms`);
  } finally {
    await sb.delete();
  }
  assert.ok(!(await listIds()).includes(sb.id));
  await sb.delete(); // already gone: not an error
});

test("ttlSeconds in the short form gives the sandbox a deadline", async () => {
  await using sb = await nimbus.sandboxes.create({ image: BUSYBOX, ttlSeconds: 300 });
  assert.equal(sb.resource.spec.sandbox.lifetime?.ttlSeconds, 300);
  assert.ok(sb.resource.status.expiresAt, JSON.stringify(sb.resource.status));
});

test("await using deletes the sandbox when the scope ends", async () => {
  let id = "";
  {
    await using sb = await nimbus.sandboxes.create({ image: BUSYBOX });
    id = sb.id;
    assert.ok((await listIds()).includes(id));
  }
  assert.ok(!(await listIds()).includes(id), "gone after the scope");
});

test("a short-form sandbox that cannot start throws its reason and is not left behind", async () => {
  const before = await listIds();
  await assert.rejects(nimbus.sandboxes.create({ image: BUSYBOX, cmd: ["/no/such/program"] }), (err: unknown) => err instanceof NimbusConflictError);
  assert.deepEqual(await listIds(), before);
});

test("the full contract form still returns the plain resource", async () => {
  const s = await nimbus.sandboxes.create({
    profile: "worker",
    spec: {
      owner: { kind: "standalone" },
      backend: "container",
      root: { kind: "oci_image", source: { kind: "reference", reference: BUSYBOX } },
      process: { argv: ["sleep", "60"] },
    },
  });
  assert.ok(!(s instanceof SandboxHandle));
  assert.equal(typeof s.metadata.id, "string");
  await nimbus.sandboxes.delete({ id: s.metadata.id });
});
