/**
 * The fake internet for egress tests and `bench/egress`: a network namespace
 * behind a veth this process creates, holding addresses of a random
 * 198.18.x.0/24 (the benchmarking range) plus any extra /32s given (host
 * routes over the same veth), every one checked with `ip route get` to stay
 * on that link. In it one Node process serves, on every address:
 *   - HTTP on 80 and 8080 and HTTPS on 443 (a certificate for `tlsNames`,
 *     self-signed: it is also the CA an inspecting proxy must be told about):
 *     `hello from <addr>:<port>`, or `GET /bytes/<n>` streams n zero bytes;
 *   - TCP on 7777 (says `tcp hello` and closes) and 7778 (echoes, held open);
 *   - UDP on 9999 (logs each datagram).
 * Every connection, request and datagram is a line in `log()` unless
 * `quiet` (benchmarks). `close()` kills the server and deletes the namespace
 * and the veth (its host routes go with it). No packet can leave the machine.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../runtime/container/exec.js";

export interface FakeInternetOptions {
  /** How many addresses of the /24 to hold, from `.2` on (default 3). */
  hostCount?: number;
  /** Extra addresses held as /32s, reached from the host over the test's veth only. */
  extraAddresses?: string[];
  /** Names the HTTPS certificate is valid for. */
  tlsNames?: string[];
  /** No log line per connection or request. */
  quiet?: boolean;
}

export interface FakeInternet {
  /** The namespace's name (`ip netns exec <ns> …`). */
  ns: string;
  /** The host side of the veth. */
  link: string;
  /** `.2`, `.3`, … of the /24, in order. */
  hosts: string[];
  /** The HTTPS certificate (self-signed; PEM path), to trust as a CA. */
  certPath: string;
  certPem: string;
  /** What the servers saw so far. */
  log(): string;
  /** Log lines starting with `prefix`. */
  lines(prefix: string): string[];
  /** Drops log lines matching `re` (a test that consumed them). */
  forget(re: RegExp): void;
  close(): Promise<void>;
}

const SERVERS = `
import http from "node:http";
import https from "node:https";
import net from "node:net";
import dgram from "node:dgram";
const quiet = process.env.FAKE_QUIET === "1";
const log = (s) => { if (!quiet) console.log(s); };
const ZERO = Buffer.alloc(256 * 1024);
const handler = (req, res) => {
  const bytes = /^\\/bytes\\/(\\d+)$/.exec(req.url ?? "");
  if (bytes) {
    let left = Number(bytes[1]);
    res.writeHead(200, { "content-length": String(left) });
    const more = () => {
      while (left > 0) {
        const chunk = ZERO.subarray(0, Math.min(left, ZERO.length));
        left -= chunk.length;
        if (!res.write(chunk)) return res.once("drain", more);
      }
      res.end();
    };
    return more();
  }
  log("req " + req.socket.localAddress + ":" + req.socket.localPort + " host=" + req.headers.host + " auth=" + req.headers.authorization);
  res.end("hello from " + req.socket.localAddress + ":" + req.socket.localPort + "\\n");
};
for (const port of [80, 8080]) http.createServer({ keepAliveTimeout: 60_000 }, handler).listen(port, "0.0.0.0");
https.createServer({ cert: process.env.FAKE_CERT, key: process.env.FAKE_KEY }, handler).listen(443, "0.0.0.0");
net.createServer((c) => { log("tcp " + c.localAddress + ":" + c.localPort); c.end("tcp hello\\n"); }).listen(7777, "0.0.0.0");
net.createServer((c) => { log("hold " + c.localAddress + ":" + c.localPort); c.on("data", (d) => c.write(d)); c.on("error", () => {}); }).listen(7778, "0.0.0.0");
const u = dgram.createSocket("udp4"); u.on("message", (m, r) => log("udp " + r.address)); u.bind(9999, "0.0.0.0");
setTimeout(() => console.log("ready"), 200);
`;

async function sh(file: string, args: string[]): Promise<string> {
  const r = await runCommand(file, args, { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export async function startFakeInternet(options: FakeInternetOptions = {}): Promise<FakeInternet> {
  const tag = Math.random().toString(16).slice(2, 8);
  const ns = `nimbus-fi-${tag}`;
  const link = `nf${tag}u`;
  const subnet = `198.18.${1 + Math.floor(Math.random() * 254)}`;
  const hosts = Array.from({ length: options.hostCount ?? 3 }, (_, i) => `${subnet}.${i + 2}`);
  const extra = options.extraAddresses ?? [];
  const certDir = mkdtempSync(join(tmpdir(), "nimbus-fake-internet-"));
  let child: ChildProcess | undefined;
  let out = "";
  let made = false;
  const close = async () => {
    child?.kill("SIGKILL");
    if (made) {
      await runCommand("ip", ["netns", "del", ns]);
      await runCommand("ip", ["link", "del", link]); // also removes the host routes over it
    }
    rmSync(certDir, { recursive: true, force: true });
  };
  try {
    const names = options.tlsNames ?? ["tls.example.test"];
    const certPath = join(certDir, "cert.pem");
    // prettier-ignore
    await sh("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`, "-keyout", join(certDir, "key.pem"), "-out", certPath]);
    made = true;
    await sh("ip", ["netns", "add", ns]);
    await sh("ip", ["link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await sh("ip", ["addr", "add", `${subnet}.1/24`, "dev", link]);
    await sh("ip", ["link", "set", link, "up"]);
    for (const a of [...hosts.map((h) => `${h}/24`), ...extra.map((e) => `${e}/32`)]) await sh("ip", ["-n", ns, "addr", "add", a, "dev", "eth0"]);
    await sh("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await sh("ip", ["-n", ns, "route", "add", "default", "via", `${subnet}.1`]);
    for (const e of extra) await sh("ip", ["route", "add", `${e}/32`, "dev", link]);
    for (const a of [...hosts, ...extra]) {
      const route = await sh("ip", ["route", "get", a]);
      assert.match(route, new RegExp(`dev ${link} `), `${a} must route over the test's veth: ${route}`);
    }
    const certPem = readFileSync(certPath, "utf8");
    child = spawn("ip", ["netns", "exec", ns, process.execPath, "--input-type=module", "-e", SERVERS], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, FAKE_CERT: certPem, FAKE_KEY: readFileSync(join(certDir, "key.pem"), "utf8"), FAKE_QUIET: options.quiet ? "1" : "0" },
    });
    child.stdout!.on("data", (d) => (out += d));
    const deadline = Date.now() + 10_000;
    while (!out.includes("ready")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the fake internet did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return {
      ns,
      link,
      hosts,
      certPath,
      certPem,
      log: () => out,
      lines: (prefix) => out.split("\n").filter((l) => l.startsWith(prefix)),
      forget: (re) => (out = out.replace(re, "")),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
