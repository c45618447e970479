// runtime/container/egress/listen-ports.test.ts — the ports a restarted
// server prefers: read back as written, ignored when damaged, and given up for
// a free port only when another socket holds them.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openPreferring, readListenPorts, writeListenPorts } from "./listen-ports.js";

const dir = mkdtempSync(join(tmpdir(), "nimbus-listen-ports-"));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => {
      servers.push(s);
      resolve(s);
    });
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;

test("ports are read back as written; a missing or damaged file means none", () => {
  assert.deepEqual(readListenPorts(dir), {});
  writeListenPorts(dir, { proxy: 4001, dns: 4002 });
  assert.deepEqual(readListenPorts(dir), { proxy: 4001, dns: 4002 });
  writeFileSync(join(dir, "egress-ports.json"), '{"proxy": 70000, "dns": "53"');
  assert.deepEqual(readListenPorts(dir), {});
  writeFileSync(join(dir, "egress-ports.json"), '{"proxy": 70000, "dns": 53}');
  assert.deepEqual(readListenPorts(dir), { dns: 53 });
});

test("the preferred port is taken when free, and given up for a free one when held", async () => {
  const probe = await listen(0);
  const free = portOf(probe);
  await new Promise((r) => probe.close(r));
  servers.pop();
  assert.equal(portOf(await openPreferring(free, listen)), free);
  const second = await openPreferring(free, listen); // held by the first now
  assert.notEqual(portOf(second), free);
  await assert.rejects(
    openPreferring(1, () => Promise.reject(Object.assign(new Error("no"), { code: "EACCES" }))),
    /no/,
  );
});
