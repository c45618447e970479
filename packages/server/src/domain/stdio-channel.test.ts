// The stdio channel against a stand-in hub: when the hub reports output lost
// (conmon replaced its log before the server took the file), an attached
// client gets `closed: output_lost` after what it was sent, never a stream
// that silently skips bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../log.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import type { SessionRow } from "../store/session-store.js";
import { StdioChannels, type ChannelEvent } from "./stdio-channel.js";
import type { OutputSubscriber, ProcessStdio, StdioFacet } from "../runtime/backend.js";

test("a hub that lost output closes its clients with output_lost, after the bytes they were sent", async () => {
  const subscribers: OutputSubscriber[] = [];
  const hub = {
    head: 0,
    ended: new Promise<void>(() => undefined),
    subscribe: (s: OutputSubscriber) => (subscribers.push(s), () => undefined),
    oldestOffset: async () => 0,
    hold: () => undefined,
    release: () => undefined,
  } as unknown as ProcessStdio;
  const session = { tenantId: "t", id: "s1", lifecycleState: "open", channels: ["stdio"], targetSandboxId: "b1" } as SessionRow;
  const sandbox = { tenantId: "t", id: "b1", lifecycleState: "ready", generation: 1 } as SandboxRow;
  const channels = new StdioChannels({
    sessions: { find: () => session, onClosed: () => () => undefined },
    sandboxes: { find: () => sandbox },
    hubs: { acquire: async () => hub } as unknown as StdioFacet,
    log: createLogger({ level: "error", format: "json", write: () => undefined }),
  });
  const events: ChannelEvent[] = [];
  let ended = false;
  await channels.attach("t", "s1", {}, { send: (e, flushed) => (events.push(e), flushed()), end: () => void (ended = true) });
  await new Promise((r) => setImmediate(r));
  subscribers[0]!.output("stdout", Buffer.from("before\n"), 0);
  await new Promise((r) => setImmediate(r));
  subscribers[0]!.lost!();
  assert.deepEqual(
    events.map((e) => e.kind),
    ["opened", "stdout", "closed"],
  );
  assert.deepEqual(events.at(-1), { kind: "closed", reason: "output_lost" });
  assert.equal(ended, true, "the transport is ended");
});
