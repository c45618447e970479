// LogTail against a file written the way conmon writes its k8s-file log: output
// arrives live, split records wait for their end, both pipes keep their order,
// a replaced file is read to its end before the new one (no byte lost or
// doubled), a reader far behind conmon says so until it caught up, a
// file replaced before it could be opened is reported lost, a stale link from
// a stopped server does not stall the next file, a worker late to hand over
// a file conmon is filling holds conmon back, drain resolves
// once everything written was handed on, and streaming output is polled for
// instead of watched, until it stops.
import assert from "node:assert/strict";
import { once } from "node:events";
import { appendFileSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { StdPipe } from "./attach.js";
import { LogGeneration } from "./log-replay.js";
import { LogRotations, type RotationEvents, type RotationSource } from "./log-rotations.js";
import { LogTail } from "./log-tail.js";

let dir: string;
let path: string;
let tail: LogTail | undefined;
let gens: LogGeneration[];
/** Replacements opened on a worker thread, as the server does; without it, by the tail itself. */
let worker: LogRotations | undefined;
const modes = [
  ["the tail itself", async () => undefined],
  [
    "a worker thread",
    async () => {
      // The server starts its worker at boot; here, wait until it runs.
      worker = new LogRotations();
      const thread = worker.start();
      thread.ref(); // the server's is unref'd; here nothing else keeps the loop alive meanwhile
      await once(thread, "online");
      return worker;
    },
  ],
] as const;
const got: Array<{ pipe: StdPipe; text: string; offset: number }> = [];
const behindEvents: boolean[] = [];
const lostEvents: boolean[] = [];
/** Called after each output event (a client reacting to it). */
let afterOutput: (() => void) | undefined;

const record = (pipe: StdPipe, text: string, full: boolean) => `2026-11-29T01:00:00.000000000+00:00 ${pipe} ${full ? "F" : "P"} ${text}\n`;
const received = (pipe?: StdPipe) =>
  got
    .filter((g) => !pipe || g.pipe === pipe)
    .map((g) => g.text)
    .join("");

function startTail(rotations?: RotationSource): LogTail {
  const first = new LogGeneration(path, Promise.resolve(0));
  gens = [first];
  tail = new LogTail(
    path,
    first,
    0,
    {
      output: (pipe, data, offset) => {
        got.push({ pipe, text: data.toString(), offset });
        afterOutput?.();
      },
      entered: (gen) => gens.push(gen),
      behind: (b) => behindEvents.push(b),
      lost: () => lostEvents.push(true),
    },
    rotations,
  );
  tail.wake();
  return tail;
}

async function until(cond: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-tail-"));
  path = join(dir, "ctr.log");
  writeFileSync(path, "");
  got.length = 0;
  behindEvents.length = 0;
  lostEvents.length = 0;
  afterOutput = undefined;
});

afterEach(async () => {
  tail?.close();
  await worker?.close();
  worker = undefined;
  tail = undefined;
  for (const g of gens) g.retire();
  rmSync(dir, { recursive: true, force: true });
});

test("output written after the tail started arrives live, with exact offsets, a split record once it is whole", async () => {
  const t = startTail();
  appendFileSync(path, record("stdout", "hello", true));
  await until(() => received() === "hello\n", "the first line");
  const half = record("stderr", "partial-then-rest", false);
  appendFileSync(path, half.slice(0, 50));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(received(), "hello\n", "half a record is not handed on");
  appendFileSync(path, half.slice(50) + record("stdout", "bye", true));
  await until(() => t.head === 6 + 17 + 4, "the rest");
  assert.equal(received("stderr"), "partial-then-rest");
  assert.equal(received("stdout"), "hello\nbye\n");
  assert.deepEqual(
    got.map((g) => g.offset),
    [0, 6, 23],
  );
});

for (const [who, rotations] of modes) {
  test(`a replaced file is read to its end before the new one (opened by ${who}): nothing lost, nothing twice`, async () => {
    const t = startTail(await rotations());
    let expected = "";
    for (let file = 0; file < 4; file++) {
      for (let i = 0; i < 200; i++) {
        const line = `file${file}-line${i}`;
        appendFileSync(path, record("stdout", line, true));
        expected += line + "\n";
      }
      // conmon's replacement: a fresh file renamed over the full one, then written.
      // (Two replacements before the tail saw the first would lose a file: the
      // hub's hold connection keeps conmon from doing that, here a short pause.)
      writeFileSync(`${path}.tmp`, "");
      renameSync(`${path}.tmp`, path);
      await new Promise((r) => setTimeout(r, 30));
    }
    appendFileSync(path, record("stdout", "last", true));
    expected += "last\n";
    await t.drain();
    assert.equal(received(), expected);
    assert.equal(gens.length, 5, "every file was entered");
    assert.equal(await gens[4]!.base, expected.length - 5, "the newest file starts where the others ended");
    assert.deepEqual(lostEvents, []);
    assert.deepEqual(readdirSync(dir), ["ctr.log"], "the worker's links are gone");
  });

  test(`far behind conmon, the tail says so until it has caught up, across a replacement (opened by ${who})`, async () => {
    const t = startTail(await rotations());
    const line = "x".repeat(8000);
    let expected = "";
    for (let i = 0; i < 500; i++) {
      appendFileSync(path, record("stdout", line, true));
      expected += line + "\n";
    }
    writeFileSync(`${path}.tmp`, "");
    renameSync(`${path}.tmp`, path);
    appendFileSync(path, record("stdout", "after", true));
    expected += "after\n";
    await until(() => received() === expected, "all of it");
    assert.equal(behindEvents[0], true, "4 MB unread is behind");
    await until(() => behindEvents.at(-1) === false, "no longer behind");
    assert.deepEqual(lostEvents, []);
    assert.equal(t.head, expected.length);
  });
}

test("a file replaced before the tail could open it is reported lost, never skipped silently", async () => {
  startTail();
  appendFileSync(path, record("stdout", "first", true));
  await until(() => received() === "first\n", "the first line");
  for (const text of ["gone", "kept"]) {
    writeFileSync(`${path}.tmp`, "");
    renameSync(`${path}.tmp`, path);
    appendFileSync(path, record("stdout", text, true));
  }
  await until(() => lostEvents.length > 0, "lost");
  await until(() => received().endsWith("kept\n"), "the newest file");
  assert.equal(received(), "first\nkept\n");
});

test("the log being deleted (the sandbox is removed) is not taken for a lost file", async () => {
  startTail();
  appendFileSync(path, record("stdout", "bye", true));
  await until(() => received() === "bye\n", "the line");
  rmSync(path);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(lostEvents, []);
});

/** inotify watches this process holds on `dir` that wake it for writes (IN_MODIFY), from /proc. */
function modifyWatchesOn(dirPath: string): number {
  const ino = statSync(dirPath).ino.toString(16);
  let n = 0;
  for (const fd of readdirSync("/proc/self/fdinfo")) {
    let info = "";
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    } catch {
      continue; // closed meanwhile
    }
    for (const m of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+) .*?mask:([0-9a-f]+)/gm)) if (m[1] === ino && (parseInt(m[2]!, 16) & 0x2) !== 0) n++;
  }
  return n;
}

test("while output streams the tail polls instead of watching each write; a line after the stream ends still arrives live", async () => {
  startTail(await modes[1][1]());
  const line = "s".repeat(8000);
  let expected = "";
  await until(() => modifyWatchesOn(dir) === 1, "the directory watched");
  // 512 KiB per millisecond or so, for a while: the rate of a process writing flat out.
  let unwatched = 0;
  for (let round = 0; round < 100; round++) {
    let chunk = "";
    for (let i = 0; i < 64; i++) chunk += record("stdout", line, true);
    appendFileSync(path, chunk);
    expected += (line + "\n").repeat(64);
    await new Promise((r) => setTimeout(r, 1));
    if (modifyWatchesOn(dir) === 0) unwatched++;
  }
  await until(() => received().length === expected.length, "the stream");
  assert.ok(unwatched > 0, "the directory watch was closed while output streamed");
  await until(() => modifyWatchesOn(dir) === 1, "the watch back once the stream stopped");
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(path, record("stdout", "late", true));
  expected += "late\n";
  await until(() => received().length === expected.length, "the late line");
  assert.equal(received(), expected);
  assert.deepEqual(lostEvents, []);
});

test("a link left by a server that stopped mid-handover does not keep the next file from being read", async () => {
  // The worker names its links <log>.r1, .r2, … from 1 in every server process.
  writeFileSync(`${path}.r1`, record("stdout", "stale", true));
  startTail(await modes[1][1]());
  appendFileSync(path, record("stdout", "old file", true));
  writeFileSync(`${path}.tmp`, "");
  renameSync(`${path}.tmp`, path);
  appendFileSync(path, record("stdout", "new file", true));
  await until(() => received() === "old file\nnew file\n", "both files");
  assert.deepEqual(lostEvents, []);
  await until(() => readdirSync(dir).length === 1, "the stale link replaced and removed");
});

/** A worker whose wake-up is slowed down: it hands the file at the path over only when told to. */
function lateWorker(): { source: RotationSource; handOver(): void } {
  let events: RotationEvents | undefined;
  return {
    source: {
      watch: (_path, _ino, e) => {
        events = e;
        return () => (events = undefined);
      },
    },
    handOver: () => events!.file(openSync(path, "r")),
  };
}

/** A first file read, then conmon's replacement and 3 MiB into the new file (past HOLD_LEAD_BYTES, short of a file). */
async function fillUnclaimedFile(): Promise<string> {
  appendFileSync(path, record("stdout", "first file", true));
  await until(() => received() === "first file\n", "the first file");
  writeFileSync(`${path}.tmp`, "");
  renameSync(`${path}.tmp`, path);
  const line = "y".repeat(8000);
  let expected = "first file\n";
  for (let i = 0; i < 400; i++) {
    appendFileSync(path, record("stdout", line, true));
    expected += line + "\n";
  }
  return expected;
}

test("while the worker is late to hand over the file conmon now fills, the tail holds conmon back, and lets it go once it has it", async () => {
  const late = lateWorker();
  const t = startTail(late.source);
  const expected = await fillUnclaimedFile();
  await until(() => behindEvents.includes(true), "the tail to hold conmon back");
  assert.equal(received(), "first file\n", "nothing of the new file before it was handed over");
  late.handOver();
  await until(() => received() === expected, "the new file");
  await until(() => behindEvents.at(-1) === false, "conmon let go");
  assert.equal(t.head, expected.length);
  assert.deepEqual(lostEvents, []);
});

test("a file the worker never hands over holds conmon back for about 2 s, not for good", async () => {
  startTail(lateWorker().source);
  await fillUnclaimedFile();
  await until(() => behindEvents.includes(true), "the tail to hold conmon back");
  const heldAt = Date.now();
  await until(() => behindEvents.at(-1) === false, "conmon let go", 6_000);
  assert.ok(Date.now() - heldAt > 1_000, `held for ${Date.now() - heldAt} ms`);
});

test("a reader paused by its client before a whole turn, with conmon far ahead, says it is behind so that conmon stays held", async () => {
  const line = "z".repeat(8000);
  let expected = "";
  for (let i = 0; i < 500; i++) {
    appendFileSync(path, record("stdout", line, true));
    expected += line + "\n";
  }
  // The client falls behind at the first block and holds the hub (StdioHub pauses the tail).
  afterOutput = () => {
    afterOutput = undefined;
    tail!.pause(true); // startTail's first read happens inside it
  };
  const t = startTail(await modes[1][1]());
  await until(() => got.length > 0, "the first block");
  assert.deepEqual(behindEvents, [true], "4 MB written, one block read: behind");
  t.pause(false);
  await until(() => received() === expected, "all of it");
  await until(() => behindEvents.at(-1) === false, "no longer behind");
});
