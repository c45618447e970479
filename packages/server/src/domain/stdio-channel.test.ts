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

/**
 * Channels over stand-in stores that count their reads, for stdin writes: the
 * session and sandbox are read once per session, and what ends the check's
 * answer (a closed lease, any change of the sandbox) makes the next write check again.
 */
function inputChannels() {
  const state = {
    session: { tenantId: "t", id: "s1", lifecycleState: "open", channels: ["stdio"], targetSandboxId: "b1" } as SessionRow,
    sandbox: { tenantId: "t", id: "b1", lifecycleState: "ready", generation: 1 } as SandboxRow,
    reads: 0,
    written: [] as string[],
  };
  let closed: ((e: { tenantId: string; sessionId: string; lifecycleState: "closed" | "expired"; reason: string }) => void) | undefined;
  const hub = { write: async (d: Buffer) => void state.written.push(d.toString()) } as unknown as ProcessStdio;
  const channels = new StdioChannels({
    sessions: {
      // Tenant first: another tenant's session id is not found.
      find: (tenantId, id) => (state.reads++, tenantId === state.session.tenantId && id === state.session.id ? state.session : undefined),
      onClosed: (l) => ((closed = l), () => (closed = undefined)),
    },
    sandboxes: { find: (tenantId, id) => (state.reads++, tenantId === state.sandbox.tenantId && id === state.sandbox.id ? state.sandbox : undefined) },
    hubs: { acquire: async () => hub, retire: () => undefined } as unknown as StdioFacet,
    log: createLogger({ level: "error", format: "json", write: () => undefined }),
  });
  channels.start();
  const closeLease = () => {
    state.session = { ...state.session, lifecycleState: "closed", closeReason: "client" };
    closed!({ tenantId: "t", sessionId: "s1", lifecycleState: "closed", reason: "client" });
  };
  return { channels, state, closeLease };
}

const codeOf = (err: unknown) => (err as { code?: string }).code;

test("stdin writes read the session and its sandbox from the store once, not per write", async () => {
  const { channels, state } = inputChannels();
  for (const ch of ["a", "b", "c", "d"]) await channels.input("t", "s1", Buffer.from(ch));
  assert.deepEqual(state.written, ["a", "b", "c", "d"]);
  assert.equal(state.reads, 2, "one read of the session and one of the sandbox, for four writes");
});

test("a stdin write after the lease closed is refused, although earlier writes were let through", async () => {
  const { channels, state, closeLease } = inputChannels();
  await channels.input("t", "s1", Buffer.from("a"));
  closeLease();
  await assert.rejects(channels.input("t", "s1", Buffer.from("b")), (err) => codeOf(err) === "op.conflict");
  assert.deepEqual(state.written, ["a"]);
});

test("a stdin write after the sandbox changed checks it again: a sandbox no longer ready takes none", async () => {
  const { channels, state } = inputChannels();
  await channels.input("t", "s1", Buffer.from("a"));
  // Any change counts, even before the lease is closed for it.
  state.sandbox = { ...state.sandbox, lifecycleState: "stopping" };
  channels.onSandboxChange(state.sandbox);
  await assert.rejects(channels.input("t", "s1", Buffer.from("b")), (err) => codeOf(err) === "op.conflict");
  // Back to ready (a stand-in for a new check's answer): the write goes through after reading both again.
  const before = state.reads;
  state.sandbox = { ...state.sandbox, lifecycleState: "ready" };
  channels.onSandboxChange(state.sandbox);
  await channels.input("t", "s1", Buffer.from("c"));
  assert.equal(state.reads, before + 2);
  assert.deepEqual(state.written, ["a", "c"]);
});

test("another tenant writing to a session id that is known for one tenant gets not found", async () => {
  const { channels, state } = inputChannels();
  await channels.input("t", "s1", Buffer.from("a"));
  await assert.rejects(channels.input("other", "s1", Buffer.from("x")), (err) => codeOf(err) === "op.not_found");
  assert.deepEqual(state.written, ["a"]);
});

test("after close (server shutdown) nothing is remembered: each write checks again", async () => {
  const { channels, state } = inputChannels();
  await channels.input("t", "s1", Buffer.from("a"));
  channels.close();
  const before = state.reads;
  await channels.input("t", "s1", Buffer.from("b"));
  await channels.input("t", "s1", Buffer.from("c"));
  assert.equal(state.reads, before + 4);
});
