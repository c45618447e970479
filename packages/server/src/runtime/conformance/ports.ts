// runtime/conformance/ports.ts — ports cases of the runtime conformance suite.
// Owns what the domain's endpoints rely on (the ports facet): a port a
// container's process listens on is seen listening and is reached through
// publish(); only `host: true` opens a host listener; a closed forward and a
// stopped container are not reachable; nothing is left behind.

import assert from "node:assert/strict";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { it } from "node:test";
import type { ConformanceContext } from "./suite.js";
import { isRuntimeError } from "../errors.js";

const HTTPD = "mkdir -p /www && echo hello-from-inside > /www/index.html && exec httpd -f -p 8080 -h /www";

/** One HTTP/1.0 GET over `socket`; the whole answer. */
function get(socket: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    socket.on("data", (b: Buffer) => (out += b.toString()));
    // busybox httpd may close with a reset once it has answered; what arrived is the answer.
    socket.on("error", (err) => (out ? resolve(out) : reject(err)));
    socket.on("close", () => resolve(out));
    socket.write("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n");
  });
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function portsCases(ctx: ConformanceContext): void {
  it("ports: a listening port is seen and reached through publish; only host: true opens a host listener", async () => {
    const b = ctx.backend();
    await b.create(ctx.spec("ports-1", ["sh", "-c", HTTPD]));
    assert.equal(await b.ports.isListening("ports-1", 8080), false, "a created container listens on nothing yet");
    await b.start("ports-1");
    await eventually("httpd to listen", () => b.ports.isListening("ports-1", 8080));
    assert.equal(await b.ports.isListening("ports-1", 8081), false, "a port nobody listens on is not listening");

    const inner = await b.ports.publish("ports-1", 8080);
    assert.equal(inner.port, 8080);
    assert.equal(inner.hostPort, undefined, "without host: true nothing listens on the host");
    assert.match(await get(inner.connect()), /200 OK[\s\S]*hello-from-inside/);

    const hosted = await b.ports.publish("ports-1", 8080, { host: true });
    assert.ok(hosted.hostPort && hosted.hostPort > 0, "host: true reports the host port");
    assert.match(await get(connect(hosted.hostPort, b.ports.host)), /hello-from-inside/);
    await hosted.close();
    await hosted.close(); // idempotent
    await assert.rejects(
      new Promise((resolve, reject) => connect(hosted.hostPort!, b.ports.host).on("connect", resolve).on("error", reject)),
      "a closed forward's host listener is gone",
    );
    await inner.close();

    await b.signal("ports-1", "SIGKILL");
    await b.wait("ports-1");
    assert.equal(await b.ports.isListening("ports-1", 8080), false, "a stopped container listens on nothing");
    await assert.rejects(b.ports.publish("ports-1", 8080), (e) => isRuntimeError(e, "not_found"), "a stopped container's port cannot be published");
    await b.delete("ports-1");
  });
}
