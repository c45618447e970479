// The stdio channel against a stand-in hub: when the hub reports output lost
// (conmon replaced its log before the server took the file), an attached
// client gets `closed: output_lost` after what it was sent, never a stream
// that silently skips bytes; when the disk holding the log fills up, a
// `gap` with reason disk_full says from where output may be missing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../log.js";
import type { SandboxRow } from "../store/sandbox-store.js";
import type { SessionRow } from "../store/session-store.js";
import { StdioChannels, type ChannelEvent } from "./stdio-channel.js";
import type { OutputSubscriber, ProcessStdio, StdioFacet } from "../runtime/backend.js";

/** A channel attached to a stand-in hub; `onSubscribe` runs as the hub's subscribe does (e.g. a disk already full). */
async function attachToStandIn(onSubscribe: (s: OutputSubscriber) => void = () => undefined) {
  const subscribers: OutputSubscriber[] = [];
  const hub = {
    head: 0,
    ended: new Promise<void>(() => undefined),
    subscribe: (s: OutputSubscriber) => (subscribers.push(s), onSubscribe(s), () => undefined),
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
  const state = { ended: false };
  await channels.attach("t", "s1", {}, { send: (e, flushed) => (events.push(e), flushed()), end: () => void (state.ended = true) });
  await new Promise((r) => setImmediate(r));
  return { subscribers, events, state };
}

test("a hub that lost output closes its clients with output_lost, after the bytes they were sent", async () => {
  const { subscribers, events, state } = await attachToStandIn();
  subscribers[0]!.output("stdout", Buffer.from("before\n"), 0);
  await new Promise((r) => setImmediate(r));
  subscribers[0]!.lost!();
  assert.deepEqual(
    events.map((e) => e.kind),
    ["opened", "stdout", "closed"],
  );
  assert.deepEqual(events.at(-1), { kind: "closed", reason: "output_lost" });
  assert.equal(state.ended, true, "the transport is ended");
});

test("a full disk reaches the client as a disk_full gap, after `opened` and after the output before it, and the stream goes on", async () => {
  // The disk is already full when the client attaches: the hub says so on subscribe, before `opened` went out.
  const { subscribers, events, state } = await attachToStandIn((s) => s.unrecorded!(0));
  const s = subscribers[0]!;
  s.output("stdout", Buffer.from("ab"), 0);
  // In the same turn as the output (not yet flushed): the gap must not overtake it.
  s.unrecorded!(2);
  s.output("stdout", Buffer.from("cd"), 2);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    events.map((e) => (e.kind === "gap" ? `gap:${e.reason}:${e.from}-${e.to}` : e.kind === "stdout" ? `stdout:${e.data}` : e.kind)),
    ["opened", "gap:disk_full:0-0", "stdout:ab", "gap:disk_full:2-2", "stdout:cd"],
  );
  assert.equal(state.ended, false, "the stream goes on");
});
