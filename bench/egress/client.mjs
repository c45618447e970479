// The measuring client of bench/egress, run as is in two network namespaces:
// the host's (straight to the fake upstream over the test veth) and a
// sandbox's (`nsenter --net`: the sandbox's veth, the bridge, the nftables
// redirect, the egress proxy). Same code, same upstream, same order.
//   node client.mjs <name> <address|-> <connects> <mib> <rounds>
// With `-`, the name is first resolved through the server's DNS responder
// (the sandbox's gateway), so the proxy knows the address came from it.
// Prints one JSON line: {connectMs: [...], mibs: [...]}.
import { connect } from "node:net";
import { Resolver } from "node:dns/promises";
import { execFileSync } from "node:child_process";

const [name, addressArg, connectsArg, mibArg, roundsArg] = process.argv.slice(2);
const CONNECTS = Number(connectsArg);
const BYTES = Number(mibArg) * 1024 * 1024;
const ROUNDS = Number(roundsArg);

async function address() {
  if (addressArg !== "-") return addressArg;
  const gateway = /default via (\S+)/.exec(execFileSync("ip", ["-4", "route", "show", "default"]).toString())?.[1];
  if (!gateway) throw new Error("no default route in this netns");
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([gateway]);
  return (await r.resolve4(name))[0];
}

/** A request on a new connection; resolves with [ms to the first response byte, ms to the last, bytes of body]. */
function request(addr, path, expectBytes) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let got = 0;
    const s = connect({ host: addr, port: 80, noDelay: true });
    s.on("connect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`));
    s.on("data", (d) => {
      if (!first) first = performance.now() - t0;
      got += d.length;
    });
    s.on("error", reject);
    s.on("close", () => {
      if (got < expectBytes) reject(new Error(`${path}: ${got} bytes, expected at least ${expectBytes}`));
      else resolve([first, performance.now() - t0, got]);
    });
  });
}

const addr = await address();
// Warm up (the proxy's and the kernel's first connections).
for (let i = 0; i < 20; i++) await request(addr, "/", 1);
const connectMs = [];
for (let i = 0; i < CONNECTS; i++) connectMs.push((await request(addr, "/", 1))[0]);
const mibs = [];
for (let r = 0; r < ROUNDS; r++) {
  const [, ms] = await request(addr, `/bytes/${BYTES}`, BYTES);
  mibs.push(BYTES / 1024 / 1024 / (ms / 1000));
}
console.log(JSON.stringify({ address: addr, connectMs, mibs }));
