/**
 * Attack, issue 15 finding 9 (slow readers stall others): a tenant opens five
 * stdio WebSockets on one sandbox and never reads them, hoping to freeze the
 * output of every other reader of that sandbox. A sixth, fast reader must
 * still see each new line within 1 s of it being written. (Before the fix,
 * every paused reader held the process back until the stall limit cut it off,
 * so the fast reader saw nothing for seconds at a time.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { sandboxEnvForFile } from "../testing/sandbox-env-for-file.js";

const T = "slowreaders";
const world = sandboxEnvForFile([T]);

interface Reader {
  ws: WebSocket;
  bytes: () => number;
  controls: any[];
  /** Resolves with the time it arrived once `token` is in the output. */
  arrival: (token: string) => Promise<number>;
}

async function connect(sid: string): Promise<Reader> {
  const url = `${world.env.srv.url.replace(/^http/, "ws")}/api/sessions/${sid}/channels/stdio?tenantId=${T}`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${world.env.srv.token()}` } });
  let carry = "";
  let bytes = 0;
  const controls: any[] = [];
  const waiting = new Map<string, (at: number) => void>();
  ws.on("message", (data: Buffer, isBinary) => {
    if (!isBinary) return void controls.push(JSON.parse(data.toString("utf8")));
    bytes += data.length;
    // The filler is large and the tokens short: look in this frame plus the end of the last one.
    const text = carry + data.toString("latin1");
    for (const [token, done] of waiting) {
      if (text.includes(token)) {
        waiting.delete(token);
        done(Date.now());
      }
    }
    carry = text.slice(-128);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, bytes: () => bytes, controls, arrival: (token) => new Promise((r) => waiting.set(token, r)) };
}

test("five readers that never read do not delay a sixth: each token arrives within 1 s", { timeout: 90_000 }, async () => {
  // Filler at ~10 MiB/s (enough to fill the paused sockets' kernel buffers in a second or two),
  // and every stdin line echoed back through the same stdout.
  const script = "(while :; do dd if=/dev/zero bs=65536 count=16 2>/dev/null | tr '\\0' x; sleep 0.1; done) & while read l; do echo \"$l\"; done";
  const id = (await world.env.create(T, ["sh", "-c", script])).metadata.id;
  await world.env.waitFor(T, id, ["ready"]);
  const open = await world.env.srv.request("POST", "/api/sessions", { body: { tenantId: T, target: { sandbox: { id } }, channels: ["stdio"] } });
  assert.equal(open.status, 201, JSON.stringify(open.body));
  const sid = open.body.metadata.id;

  const paused: Reader[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await connect(sid);
    // A raw pause of the TCP socket: the client takes nothing, the kernel buffers fill up.
    (r.ws as any)._socket.pause();
    paused.push(r);
  }
  const fast = await connect(sid);

  // Send a unique token every 400 ms for 8 s (past the 5 s stall limit of the old code);
  // each one must come back to the fast reader within 1 s.
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const token = `TOKEN-${i}-${Math.random().toString(36).slice(2)}`;
    const arrived = fast.arrival(token);
    const sent = Date.now();
    fast.ws.send(Buffer.from(token + "\n"));
    let timer: NodeJS.Timeout | undefined;
    const at = await Promise.race([arrived, new Promise<number>((r) => (timer = setTimeout(() => r(Infinity), 5_000)))]);
    clearTimeout(timer);
    latencies.push(at - sent);
    await new Promise((r) => setTimeout(r, 400));
  }
  const worst = Math.max(...latencies);
  assert.ok(worst < 1_000, `token latencies (ms): ${latencies.join(", ")}`);
  assert.ok(fast.bytes() > 4 * 1024 * 1024, `the fast reader got the filler too (${fast.bytes()} bytes)`);
  assert.equal(
    fast.controls.some((m) => m.type === "closed"),
    false,
    JSON.stringify(fast.controls),
  );

  for (const r of [...paused, fast]) r.ws.terminate();
  assert.equal((await world.env.remove(T, id)).status < 300, true);
});
