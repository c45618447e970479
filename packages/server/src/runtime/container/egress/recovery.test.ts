// runtime/container/egress/recovery.test.ts — a server that died without
// close() leaves its bridge, veths and table; the next start() for the same
// state dir adopts them (keeping the veths of containers still alive, sweeping
// the rest), and the leak check sees every piece until close() removes it.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findLeftovers } from "../../leak-check.js";
import { findBinary, runCommand } from "../exec.js";
import { vethName } from "./names.js";
import { EgressNetwork } from "./network.js";

const skip = (process.getuid?.() !== 0 || !findBinary("nft") || !findBinary("ip")) && "needs root, iproute2 and nftables";
const tag = Math.random().toString(16).slice(2, 8);
const namespaces = [`nimbus-t-ra-${tag}`, `nimbus-t-rb-${tag}`];
const children: ChildProcess[] = [];
const stateDir = mkdtempSync(join(tmpdir(), "nimbus-egress-recovery-"));
const networks: EgressNetwork[] = [];

async function holderIn(ns: string): Promise<number> {
  const r = await runCommand("ip", ["netns", "add", ns]);
  assert.equal(r.code, 0, r.stderr);
  const holder = spawn("ip", ["netns", "exec", ns, "sleep", "600"], { stdio: "ignore" });
  children.push(holder);
  const ino = statSync(`/run/netns/${ns}`).ino;
  for (let i = 0; i < 400; i++) {
    try {
      if (statSync(`/proc/${holder.pid}/ns/net`).ino === ino) return holder.pid!;
    } catch {
      // not exec'd yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no process entered ${ns}`);
}

after(async () => {
  for (const n of networks) await n.close().catch(() => {});
  for (const c of children) c.kill("SIGKILL");
  for (const ns of namespaces) await runCommand("ip", ["netns", "del", ns]);
  rmSync(stateDir, { recursive: true, force: true });
});

test("start() after a crash re-adopts live containers' veths, sweeps the others, and close() leaves nothing", { skip }, async () => {
  const decide = () => false;
  const dns = { policy: { allows: () => false }, upstream: ["127.0.0.1:9"] };
  const first = new EgressNetwork({ stateDir, decide, dns });
  networks.push(first);
  await first.start();
  const [pidA, pidB] = [await holderIn(namespaces[0]!), await holderIn(namespaces[1]!)];
  const addrA = await first.attach("a", pidA);
  await first.attach("b", pidB);

  const left = await findLeftovers(stateDir);
  assert.deepEqual(left.egressLinks.sort(), [first.names.bridge, vethName(stateDir, "a"), vethName(stateDir, "b")].sort());
  assert.deepEqual(left.nftTables, [`inet ${first.names.table}`]);

  // The "crash": the process's sockets die with it; the host-side pieces stay.
  const ports = [first.proxyPort, first.dnsResponderPort];
  await first.stopListeners();
  networks.pop();

  const second = new EgressNetwork({ stateDir, decide, dns, liveContainerIds: ["a"] });
  networks.push(second);
  await second.start();
  // Same ports as before: conntrack entries of live flows still DNAT to them (a resolver reusing its UDP socket keeps working).
  assert.deepEqual([second.proxyPort, second.dnsResponderPort], ports);
  const after = await findLeftovers(stateDir);
  assert.deepEqual(after.egressLinks.sort(), [second.names.bridge, vethName(stateDir, "a")].sort(), "b's veth is swept, a's kept");
  const addrC = await second.attach("c", pidB);
  assert.notEqual(addrC, addrA, "a's address stays leased to a");

  await second.close();
  networks.pop();
  const none = await findLeftovers(stateDir);
  assert.deepEqual([none.egressLinks, none.nftTables], [[], []]);
});
