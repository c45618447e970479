/** Flag values the CLI turns into what the server takes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTime } from "./values.js";

test("--since/--until: any ISO 8601 form becomes the RFC 3339 UTC time the server validates; other text is a usage error", () => {
  assert.equal(parseTime("since", undefined), undefined);
  assert.equal(parseTime("since", "2026-12-04"), "2026-12-04T00:00:00.000Z");
  assert.equal(parseTime("since", "2026-12-04T18:00:00+01:00"), "2026-12-04T17:00:00.000Z");
  assert.throws(() => parseTime("since", "yesterday"), /--since: invalid time "yesterday"/);
});
