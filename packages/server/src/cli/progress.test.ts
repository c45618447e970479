import { test } from "node:test";
import assert from "node:assert/strict";
import { PullProgressView, formatBytes, formatRate, renderBar, shortDigest } from "./progress.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const MiB = 1024 * 1024;

function harness(isTty: boolean) {
  const lines: string[] = [];
  let now = 0;
  const view = new PullProgressView({ isTty, out: (l) => lines.push(l) }, () => now);
  const layer = (digest: string, receivedBytes: number, totalBytes: number, extra: { done?: boolean; cached?: boolean } = {}) =>
    view.update({ kind: "layer", digest, receivedBytes, totalBytes, done: extra.done ?? false, cached: extra.cached ?? false });
  return { lines, view, layer, tick: (ms: number) => (now += ms) };
}

test("units, rate, bar and short digest", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * MiB), "3.0 MiB");
  assert.equal(formatRate(undefined), "-");
  assert.equal(formatRate(2 * MiB), "2.0 MiB/s");
  assert.equal(renderBar(0, 100, 10), "[>         ]");
  assert.equal(renderBar(50, 100, 10), "[=====>    ]");
  assert.equal(renderBar(100, 100, 10), "[==========]");
  assert.equal(renderBar(5, 0, 4), "[>   ]");
  assert.equal(shortDigest(A), "aaaaaaaaaaaa");
});

test("plain output: one line per event, a layer's progress at most once a second, bytes and rate", () => {
  const h = harness(false);
  h.view.update({ kind: "resolved", reference: "docker.io/library/x:1", digest: A, layers: 2 });
  h.layer(A, 0, 4 * MiB);
  h.tick(100);
  h.layer(A, MiB, 4 * MiB);
  h.tick(900);
  h.layer(A, 2 * MiB, 4 * MiB);
  h.layer(B, 10, 10, { done: true, cached: true });
  h.tick(1000);
  h.layer(A, 4 * MiB, 4 * MiB, { done: true });
  h.view.update({
    kind: "done",
    image: {
      reference: "docker.io/library/x:1",
      public: false,
      digest: A,
      sizeBytes: 1,
      pulledAt: "",
      layers: [],
      config: { entrypoint: null, cmd: null, env: [], workingDir: "", user: "", exposedPorts: [], labels: {} },
    },
  });
  h.view.finish();
  assert.deepEqual(h.lines, [
    "resolved docker.io/library/x:1 to " + A + " (2 layers)",
    "layer aaaaaaaaaaaa  [>                       ]  0 B / 4.0 MiB  -",
    "layer aaaaaaaaaaaa  [============>           ]  2.0 MiB / 4.0 MiB  2.0 MiB/s",
    "layer bbbbbbbbbbbb  already present  10 B",
    "layer aaaaaaaaaaaa  done  4.0 MiB",
  ]);
  for (const l of h.lines) assert.ok(!l.includes("\x1b"), "no escape sequences off a terminal");
});

test("terminal output: one bar per layer, redrawn in place over the previous frame", () => {
  const h = harness(true);
  h.view.update({ kind: "resolved", reference: "r", digest: A, layers: 2 });
  assert.deepEqual(h.lines, ["resolved r to " + A + " (2 layers)"]);
  h.layer(A, 0, 100);
  assert.deepEqual(h.lines.slice(1), ["\x1b[2Kaaaaaaaaaaaa  [>                       ]  0 B / 100 B  -"]);
  h.tick(50);
  h.layer(A, 10, 100);
  assert.equal(h.lines.length, 2, "redraws are throttled");
  h.tick(100);
  h.layer(B, 0, 200);
  assert.deepEqual(h.lines.slice(2), [
    "\x1b[1F\x1b[2Kaaaaaaaaaaaa  [==>                     ]  10 B / 100 B  200 B/s",
    "\x1b[2Kbbbbbbbbbbbb  [>                       ]  0 B / 200 B  -",
  ]);
  h.tick(10);
  h.layer(A, 100, 100, { done: true });
  assert.deepEqual(h.lines.slice(4), ["\x1b[2F\x1b[2Kaaaaaaaaaaaa  done  100 B", "\x1b[2Kbbbbbbbbbbbb  [>                       ]  0 B / 200 B  -"]);
  h.view.finish();
  assert.equal(h.lines.length, 8, "finish draws the last frame");
  assert.ok(h.lines[6]!.startsWith("\x1b[2F"));
});

test("lines the view does not know (e.g. heartbeats) are ignored", () => {
  const h = harness(false);
  h.view.update({ kind: "heartbeat" } as never);
  h.view.update({ kind: "done" });
  assert.deepEqual(h.lines, []);
});
