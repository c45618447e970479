#!/usr/bin/env node
// bench/session-io — the stdio channel of a session next to a raw pipe, in one run,
// on loopback, with real crun + conmon:
//   - round-trip latency (p50/p99): one byte through `cat` in a sandbox over the
//     session WebSocket, next to one byte through a local `cat` child over pipes;
//   - stdout throughput (MiB/s): `dd if=/dev/zero bs=64k` in the sandbox read over the
//     WebSocket (and over NDJSON through the SDK), next to the same command on the
//     host read from a pipe, and to conmon's attach socket read directly (how the
//     server used to read output: each socket reader costs conmon a system call
//     per 8 KiB, which capped it; the server now reads conmon's log file);
//   - the same dd timed inside the sandbox with no client attached: what conmon and
//     the server's log tail allow at all, at this moment (the host's speed varies);
//   - session-open latency (p50/p99): POST /api/sessions then close.
// The clients run in this process, like the in-process server; loops are bounded.
// Uses packages/server/dist when built (`npm run build`), else the sources via tsx.
// Usage: node bench/session-io/run.mjs [--rtts N] [--mib N] [--opens N]
import { spawn } from "node:child_process";
import { join } from "node:path";
import { codeSource, loadServer, numberArg } from "../lib/load-server.mjs";

const RTTS = numberArg("--rtts", 2000);
const MIB = numberArg("--mib", 256);
const OPENS = numberArg("--opens", 100);

const { startSandboxEnv } = await loadServer("testing/sandbox-env");
const { connectAttach } = await loadServer("runtime/container/attach");
const { default: WebSocket } = await import("ws");
const { Nimbus } = await import("@nimbus/nimbus");

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const fmt = (ms) => `${(ms * 1000).toFixed(0)} µs`;
const BYTES = MIB * 1024 * 1024;
// The writer must not be the limit: busybox `head -c` writes 4 KiB at a time and
// tops out near 150-185 MiB/s even into a plain pipe; dd with 64 KiB blocks does
// several times that. N is a whole number of MiB, so of 64 KiB blocks.
const READER = "while read n; do dd if=/dev/zero bs=65536 count=$((n / 65536)) 2>/dev/null; done";

/** A byte source with `send(buf)` and a data callback, for the same loops over each transport. */
function wsTransport(url, token) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  let onData = () => {};
  // A channel that ends fails the loop waiting on it (throwing here would skip the cleanup).
  let onEnd = () => {};
  ws.on("message", (data, isBinary) => {
    if (isBinary) onData(data);
    else {
      const m = JSON.parse(data.toString());
      if (m.type === "closed" || m.type === "error") onEnd(new Error(`channel ended: ${data}`));
    }
  });
  return new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () =>
      resolve({
        send: (b) => ws.send(b),
        set onData(f) {
          onData = f;
        },
        set onEnd(f) {
          onEnd = f;
        },
        close: () => ws.close(),
      }),
    );
  });
}

/** conmon's attach socket itself, read like the server did before it read the log. */
async function socketTransport(path) {
  let onData = () => {};
  const conn = await connectAttach(path, { output: (_pipe, d) => onData(d), end: () => undefined });
  return {
    send: (b) => conn.write(b),
    set onData(f) {
      onData = f;
    },
    close: () => conn.close(),
  };
}

function pipeTransport(cmd, args) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  let onData = () => {};
  child.stdout.on("data", (d) => onData(d));
  return {
    send: (b) => child.stdin.write(b),
    set onData(f) {
      onData = f;
    },
    close: () => child.kill(),
  };
}

async function rtts(t, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      t.onData = () => resolve();
      t.onEnd = reject;
      t.send(Buffer.from("x"));
    });
    out.push(performance.now() - t0);
  }
  return out;
}

async function throughput(t, bytes) {
  let n = 0;
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    t.onData = (d) => {
      n += d.length;
      if (n >= bytes) resolve();
    };
    t.onEnd = reject;
    t.send(Buffer.from(`${bytes}\n`));
  });
  if (n !== bytes) throw new Error(`expected ${bytes} bytes, got ${n}`);
  return bytes / 1024 / 1024 / ((performance.now() - t0) / 1000);
}

let env;
try {
  env = await startSandboxEnv();
  await env.tenant("bench");
  const token = env.srv.token();
  const nimbus = new Nimbus({ endpoint: env.srv.url, token, tenantId: "bench" });
  const ready = async (argv) => {
    const id = (await env.create("bench", argv)).metadata.id;
    await env.waitFor("bench", id, ["ready"]);
    return id;
  };
  const open = async (id) => (await nimbus.sessions.open({ target: { sandbox: { id } }, channels: ["stdio"] })).metadata.id;
  const wsUrl = (sid) => `${env.srv.url.replace(/^http/, "ws")}/api/sessions/${sid}/channels/stdio?tenantId=bench`;

  // Round trips: warm up both, then alternate halves so drift hits both alike.
  const catId = await ready(["cat"]);
  const ws = await wsTransport(wsUrl(await open(catId)), token);
  const pipe = pipeTransport("busybox", ["cat"]);
  await rtts(ws, 100);
  await rtts(pipe, 100);
  const wsRtt = [];
  const pipeRtt = [];
  for (let r = 0; r < 4; r++) {
    wsRtt.push(...(await rtts(ws, RTTS / 4)));
    pipeRtt.push(...(await rtts(pipe, RTTS / 4)));
  }
  ws.close();
  pipe.close();

  // Throughput: the same reader loop in a sandbox and on the host.
  const zeroId = await ready(["sh", "-c", READER]);
  const zws = await wsTransport(wsUrl(await open(zeroId)), token);
  // The same busybox applets as in the sandbox image.
  const zpipe = pipeTransport("busybox", ["sh", "-c", READER]);
  await throughput(zws, 8 * 1024 * 1024);
  await throughput(zpipe, 8 * 1024 * 1024);
  const wsMibs = [];
  const pipeMibs = [];
  for (let r = 0; r < 3; r++) {
    wsMibs.push(await throughput(zws, BYTES));
    pipeMibs.push(await throughput(zpipe, BYTES));
  }
  zws.close();
  zpipe.close();
  // The ceiling the sandbox's output path sets, with no client at all: dd writes into the
  // main process's stdout (conmon reads it, writes the log, the server tails it), timed in
  // the sandbox. An exec, so that nothing attaches to the output while it runs.
  const dd = `time sh -c 'dd if=/dev/zero bs=65536 count=${BYTES / 65536} 2>/dev/null >/proc/1/fd/1'`;
  const aloneMibs = [];
  for (let r = 0; r < 3; r++) {
    const ran = await nimbus.sandboxes.exec({ id: zeroId, argv: ["sh", "-c", dd] });
    const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(ran.stderr.toString());
    if (!m) throw new Error(`no time from dd: ${ran.stderr}`);
    aloneMibs.push(MIB / (Number(m[1]) * 60 + Number(m[2])));
  }
  // The layout's attach socket (runtime/container/layout.ts).
  const zsock = await socketTransport(join(env.srv.root, "data", "runtime", "c", zeroId, "attach"));
  const sockMibs = await throughput(zsock, BYTES);
  zsock.close();
  // NDJSON through the SDK (base64 in JSON lines): the same loop once.
  const a = await nimbus.sessions.attach({ id: await open(zeroId), channel: "stdio" });
  const nd = {
    send: (b) => a.stdin.write(b),
    set onData(f) {
      a.stdout.removeAllListeners("data");
      a.stdout.on("data", f);
    },
  };
  const ndMibs = await throughput(nd, BYTES);
  await a.close();

  // Session open latency (open + close of a lease on a ready sandbox).
  const opens = [];
  for (let i = 0; i < OPENS; i++) {
    const t0 = performance.now();
    const sid = await open(catId);
    opens.push(performance.now() - t0);
    await nimbus.sessions.close({ id: sid });
  }

  const med = (xs) => pct(xs, 50);
  console.log(`server code: ${codeSource}`);
  console.log(`stdio round trip (1 byte through cat), ${RTTS} each:`);
  console.log(`  session WebSocket  p50 ${fmt(pct(wsRtt, 50))}  p99 ${fmt(pct(wsRtt, 99))}`);
  console.log(`  raw pipe           p50 ${fmt(pct(pipeRtt, 50))}  p99 ${fmt(pct(pipeRtt, 99))}`);
  console.log(
    `  added p50 ${fmt(pct(wsRtt, 50) - pct(pipeRtt, 50))} (ratio ${(pct(wsRtt, 50) / pct(pipeRtt, 50)).toFixed(1)}x), p99 ratio ${(pct(wsRtt, 99) / pct(pipeRtt, 99)).toFixed(1)}x`,
  );
  console.log(`stdout throughput (${MIB} MiB of dd if=/dev/zero bs=64k), median of 3:`);
  console.log(`  session WebSocket  ${med(wsMibs).toFixed(0)} MiB/s`);
  console.log(`  session NDJSON/SDK ${ndMibs.toFixed(0)} MiB/s (one run)`);
  console.log(`  raw pipe           ${med(pipeMibs).toFixed(0)} MiB/s`);
  console.log(`  conmon socket      ${sockMibs.toFixed(0)} MiB/s (one run, read directly: the old server path)`);
  console.log(`  no client          ${med(aloneMibs).toFixed(0)} MiB/s (dd's own time into conmon: the ceiling of the output path)`);
  console.log(`  ratio WebSocket/pipe ${(med(wsMibs) / med(pipeMibs)).toFixed(2)}, WebSocket/no client ${(med(wsMibs) / med(aloneMibs)).toFixed(2)}`);
  console.log(`session open, ${OPENS}: p50 ${pct(opens, 50).toFixed(2)} ms  p99 ${pct(opens, 99).toFixed(2)} ms`);
} finally {
  await env?.close();
}
