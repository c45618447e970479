/**
 * The SDK's handle API (issue 18) against a real server and real crun
 * sandboxes: the short form `create({ image })` waits for ready and returns
 * a handle; commands run with text output and live callbacks; files are
 * written and read back; `await using` deletes the sandbox when the scope
 * ends; a sandbox that cannot start is not left behind. commands.start gives
 * a process handle (stdin, EOF, kill, iterators) whose reads resume from the
 * cursor across dropped connections; pty runs a shell that resizes; files
 * list/stat/mkdir/rename/remove/watch and move directories as tar.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Nimbus, NimbusConflictError, SandboxHandle } from "@nimbus/nimbus";
import { startSandboxEnv, BUSYBOX, type SandboxEnv } from "../testing/sandbox-env.js";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

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

test("commands.start: a process handle with stdin, EOF, live callbacks, iterators, kill and a cursor-resumed read", async () => {
  await using sb = await nimbus.sandboxes.create({ image: BUSYBOX });
  const live: string[] = [];
  // Echoes each line it reads, upper-cased, then says bye on EOF.
  const p = await sb.commands.start('while read l; do echo "got $l" | tr a-z A-Z; done; echo bye >&2', { stdin: true, onStdout: (s) => live.push(s) });
  assert.match(p.pid, /^p-/);
  const firstLine = (async () => {
    for await (const s of p.stdout()) if (s.includes("\n")) return s;
    return "";
  })();
  await p.sendStdin("one\n");
  assert.equal(await firstLine, "GOT ONE\n");
  await p.sendStdin("two\n");
  await p.closeStdin();
  const r = await p.wait();
  assert.deepEqual(r, { stdout: "GOT ONE\nGOT TWO\n", stderr: "bye\n", exitCode: 0 });
  assert.equal(live.join(""), "GOT ONE\nGOT TWO\n");
  // Iterators started after the end replay everything, typed by stream.
  const chunks: string[] = [];
  for await (const c of p.output()) chunks.push(`${c.stream}:${c.text}`);
  assert.equal(chunks.filter((c) => c.startsWith("stderr:")).join(""), "stderr:bye\n");
  let err = "";
  for await (const s of p.stderr()) err += s;
  assert.equal(err, "bye\n");

  // kill ends a long runner (128+9), env and cwd reach it.
  const sleeper = await sb.commands.start(["sh", "-c", "echo $X in $(pwd); exec sleep 600"], { env: { X: "x1" }, cwd: "/tmp" });
  for await (const s of sleeper.stdout()) if (s.includes("\n")) break;
  await sleeper.kill();
  const killed = await sleeper.wait();
  assert.equal(killed.exitCode, 137);
  assert.equal(killed.stdout, "x1 in /tmp\n");
});

test("commands.start: a reader whose connection drops resumes from its cursor, losing and repeating nothing", async () => {
  // The SDK talks through a loopback TCP relay whose connections the test cuts.
  const sockets = new Set<Socket>();
  const target = new URL(env.srv.url);
  const relay = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
  try {
    const viaRelay = new Nimbus({ endpoint: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`, token: env.srv.token(), tenantId: T });
    await using sb = await viaRelay.sandboxes.create({ image: BUSYBOX });
    const p = await sb.commands.start("i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); sleep 0.05; done", { detach: true });
    let cuts = 0;
    for await (const s of p.stdout()) {
      if (cuts < 2 && s.includes(`line${10 + cuts * 10}`)) {
        cuts++;
        for (const sock of sockets) sock.destroy();
      }
    }
    assert.equal(cuts, 2, "the output was cut twice");
    const r = await p.wait();
    assert.equal(r.stdout, Array.from({ length: 40 }, (_, i) => `line${i}\n`).join(""));
    assert.equal(r.exitCode, 0);
  } finally {
    for (const sock of sockets) sock.destroy();
    await new Promise((r) => relay.close(r));
  }
});

test("pty.create: a shell on a terminal that takes keystrokes, resizes and exits", async () => {
  await using sb = await nimbus.sandboxes.create({ image: BUSYBOX });
  let seen = "";
  const term = await sb.pty.create({ cols: 80, rows: 24, onData: (b) => (seen += Buffer.from(b).toString()) });
  const until = async (re: RegExp) => {
    const deadline = Date.now() + 15_000;
    while (!re.test(seen)) {
      assert.ok(Date.now() < deadline, `no ${re} in ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await term.write("stty size\n");
  await until(/24 80/);
  await term.resize({ cols: 132, rows: 50 });
  await term.write("stty size\n");
  await until(/50 132/);
  await term.write("exit 5\n");
  assert.equal((await term.wait()).exitCode, 5);
  assert.match(term.output().toString(), /50 132/);

  const sleeper = await sb.pty.create({ cols: 80, rows: 24, cmd: "sleep 600" });
  await sleeper.kill();
  assert.equal((await sleeper.wait()).exitCode, 137);
});

test("files: list, stat, exists, mkdir -p, rename, remove, watch, and a directory up and down as tar", async () => {
  await using sb = await nimbus.sandboxes.create({ image: BUSYBOX });
  await sb.files.mkdir("/work/a/b");
  await sb.files.write("/work/a/b/x.txt", "hello\n");
  const names = (await sb.files.list("/work", { depth: 3 })).map((e) => `${e.type}:${e.path}`);
  assert.deepEqual(names, ["directory:/work/a", "directory:/work/a/b", "file:/work/a/b/x.txt"]);
  const st = await sb.files.stat("/work/a/b/x.txt");
  assert.equal(st.sizeBytes, 6);
  assert.equal(st.type, "file");
  assert.equal(await sb.files.exists("/work/a/b/x.txt"), true);
  assert.equal(await sb.files.exists("/work/nope"), false);
  await sb.files.rename("/work/a/b/x.txt", "/work/a/y.txt");
  assert.equal(await sb.files.read("/work/a/y.txt"), "hello\n");

  // watch sees a file appear (writes land by rename: moved_to).
  const ac = new AbortController();
  const events: string[] = [];
  const watching = (async () => {
    try {
      for await (const e of sb.files.watch("/work", { recursive: true, signal: ac.signal })) {
        events.push(`${e.type}:${e.path}`);
        if (e.path === "/work/a/new.txt") return;
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  await sb.files.write("/work/a/new.txt", "n");
  const timer = setTimeout(() => ac.abort(), 15_000);
  await watching;
  clearTimeout(timer);
  assert.ok(events.includes("moved_to:/work/a/new.txt"), events.join(", "));

  // Down as tar to a local file, up again elsewhere.
  const dir = mkdtempSync("/tmp/h-sdk-files-");
  try {
    const tarPath = join(dir, "work.tar");
    await sb.files.download("/work", { to: tarPath });
    assert.ok(statSync(tarPath).size >= 1024);
    const up = await sb.files.upload(tarPath, "/copy");
    assert.ok(up.entries >= 3, JSON.stringify(up));
    assert.equal(await sb.files.read("/copy/a/y.txt"), "hello\n");
    // and as a stream
    const chunks: Buffer[] = [];
    for await (const c of await sb.files.download("/copy")) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).includes("a/y.txt"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok((await sb.files.remove("/work", { recursive: true })) >= 3);
  assert.equal(await sb.files.exists("/work"), false);
});
