/**
 * Acceptance (Sessions, CLI): `nimbus attach` on the built binary with pipes
 * echoes through `cat` and exits once its input ended and output went quiet;
 * the process's exit code passes through when it exits while attached; the
 * detach key sequence is split from terminal input correctly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { useCliWorld } from "../testing/cli-world.js";
import { runNimbus } from "../testing/cli.js";
import { DetachKeys } from "./commands/attach.js";

const world = useCliWorld("cli-attach");
const ready = (...argv: string[]) => world.createReady(argv);

test("nimbus attach with pipes echoes through cat and exits", async () => {
  const id = await ready("cat");
  const r = await runNimbus(["attach", id, "--quiet-after", "300ms"], world.env, "hello through attach\nsecond line\n");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello through attach\nsecond line\n");
  // The sandbox keeps running and a later attach replays what was printed.
  const again = await runNimbus(["attach", id, "--replay", "0", "--quiet-after", "300ms"], world.env, "");
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "hello through attach\nsecond line\n");
  const state = await world.waitForState(id, ["ready"]);
  assert.equal(state.status.lifecycleState, "ready");
});

test("nimbus attach passes the process's exit code through", async () => {
  const id = await ready("sh", "-c", "read x; echo out-$x; echo err-$x >&2; exit 42");
  const r = await runNimbus(["attach", id, "--quiet-after", "5s"], world.env, "now\n");
  assert.equal(r.code, 42, r.stderr);
  assert.equal(r.stdout, "out-now\n");
  assert.match(r.stderr, /err-now/);
});

test("Ctrl-P Ctrl-Q detaches; a lone Ctrl-P is passed on", () => {
  const k = new DetachKeys();
  assert.deepEqual(k.feed(Buffer.from("ab\x10")), { send: Buffer.from("ab"), detach: false });
  assert.deepEqual(k.feed(Buffer.from("c")), { send: Buffer.from("\x10c"), detach: false });
  assert.deepEqual(k.feed(Buffer.from("x\x10\x11y")), { send: Buffer.from("x"), detach: true });
  const k2 = new DetachKeys();
  assert.deepEqual(k2.feed(Buffer.from("\x10\x10\x11")), { send: Buffer.from("\x10"), detach: true });
});
