import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { DenialEventThrottle } from "./egress-event-throttle.js";

type Sent = [string, string, { n: number; suppressedCount?: number }];

function throttle(): { t: DenialEventThrottle<{ n: number }>; sent: Sent[] } {
  const sent: Sent[] = [];
  return { t: new DenialEventThrottle<{ n: number }>({ publish: (tenant, id, row) => sent.push([tenant, id, row]), maxPerWindow: 3, windowMs: 1000 }), sent };
}

test("a flood of denials from one sandbox is bounded per window, and the rest is summed up in one event when the window closes", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { t, sent } = throttle();
    for (let n = 1; n <= 1000; n++) t.offer("t1", "sb1", { n });
    assert.deepEqual(
      sent.map((s) => s[2]),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
    mock.timers.tick(1000);
    assert.deepEqual(sent.at(-1), ["t1", "sb1", { n: 1000, suppressedCount: 997 }]);
    assert.equal(sent.length, 4);
    // A new window after that.
    t.offer("t1", "sb1", { n: 1001 });
    assert.deepEqual(sent.at(-1), ["t1", "sb1", { n: 1001 }]);
    mock.timers.tick(1000);
    assert.equal(sent.length, 5, "no summary when nothing was held back");
    t.stop();
  } finally {
    mock.timers.reset();
  }
});

test("windows are per sandbox and per tenant: one sandbox's flood does not silence another's", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { t, sent } = throttle();
    for (let n = 1; n <= 10; n++) t.offer("t1", "noisy", { n });
    t.offer("t1", "quiet", { n: 1 });
    t.offer("t2", "noisy", { n: 1 });
    assert.deepEqual(
      sent.filter((s) => s[1] === "quiet" || s[0] === "t2"),
      [
        ["t1", "quiet", { n: 1 }],
        ["t2", "noisy", { n: 1 }],
      ],
    );
    t.stop();
    mock.timers.tick(1000);
    assert.equal(sent.length, 5, "stop() drops the pending summaries and timers");
  } finally {
    mock.timers.reset();
  }
});
