// LogRotations' accounting when its worker falls behind conmon: every file conmon
// put at the log's path is either handed to the tail or reported lost, never
// skipped in silence. A silent skip is what hung bench/session-io (3 runs in ~13):
// the client waited for a file's worth of output the hub had never read, with
// nothing telling it so. Two ways to skip one, both reproduced here by replacing
// the log faster than the worker wakes (a loaded 2-core host delays it as much
// at conmon's speed):
// - inotify merges an event into the previous one when that one is still unread
//   and identical (mask, watch and name; the rename cookie is not compared), so
//   two quick renames onto `ctr.log` arrived as one;
// - link(2) answers ENOENT for a file renamed over between its lookup and the
//   link, which the worker took for the sandbox being removed.
import assert from "node:assert/strict";
import { once } from "node:events";
import { appendFileSync, closeSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { LogGeneration } from "./log-replay.js";
import { LogRotations } from "./log-rotations.js";
import { LogTail } from "./log-tail.js";

let dir: string;
let path: string;
let worker: LogRotations;
let tail: LogTail | undefined;
const gens: LogGeneration[] = [];
let lost = 0;
let text = "";

const record = (line: string) => `2026-12-04T19:00:00.000000000+00:00 stdout F ${line}\n`;

/** conmon's replacement (ctr_logging.c, reopen_k8s_file): create `<log>.tmp`, rename it over the log. */
function replace(): void {
  closeSync(openSync(`${path}.tmp`, "w"));
  renameSync(`${path}.tmp`, path);
}

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-rotations-"));
  path = join(dir, "ctr.log");
  writeFileSync(path, "");
  worker = new LogRotations();
  const thread = worker.start();
  thread.ref(); // the server's is unref'd; here nothing else keeps the loop alive meanwhile
  await once(thread, "online");
  lost = 0;
  text = "";
  const first = new LogGeneration(path, Promise.resolve(0));
  gens.length = 0;
  gens.push(first);
  tail = new LogTail(
    path,
    first,
    0,
    {
      output: (_pipe, data) => (text += data.toString()),
      entered: (gen) => gens.push(gen),
      behind: () => undefined,
      lost: () => lost++,
    },
    worker,
  );
  tail.wake();
});

afterEach(async () => {
  tail?.close();
  tail = undefined;
  for (const g of gens.splice(0)) g.retire();
  await worker.close();
  rmSync(dir, { recursive: true, force: true });
});

test("replacements faster than the worker wakes: each file is read or reported lost, never skipped silently", async () => {
  const FILES = 300;
  // The reader is paused while conmon races ahead, as the hub pauses it for a slow client.
  tail!.pause(true);
  appendFileSync(path, record("file-0"));
  for (let f = 1; f < FILES; f++) {
    replace();
    appendFileSync(path, record(`file-${f}`));
  }
  tail!.pause(false);
  await tail!.drain();
  // Every file is accounted for once: entered by the tail, or one `lost` for it.
  await until(() => gens.length + lost >= FILES, `${FILES} files accounted for (entered ${gens.length}, lost ${lost})`, 5_000);
  await new Promise((r) => setTimeout(r, 50)); // nothing reported twice
  assert.equal(gens.length + lost, FILES, `entered ${gens.length} + lost ${lost}`);
  // What was read is whole files, in order, each once.
  const read = text.split("\n").filter(Boolean);
  const numbers = read.map((l) => Number(/^file-(\d+)$/.exec(l)?.[1]));
  assert.equal(read.length, gens.length, "one line per file entered");
  assert.ok(
    numbers.every((n, i) => i === 0 || n > numbers[i - 1]!),
    "in order",
  );
  assert.equal(numbers.at(-1), FILES - 1, "the newest file was read");
  assert.deepEqual(readdirSync(dir), ["ctr.log"], "the worker's links are gone");
});
