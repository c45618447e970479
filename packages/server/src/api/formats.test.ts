/** The `date-time` format is known to the edge's validation: RFC 3339 passes, other text does not. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Type } from "@sinclair/typebox";
import { validate } from "./validate.js";

const Query = Type.Object({ since: Type.Optional(Type.String({ format: "date-time" })) });

test("a date-time query value is accepted in RFC 3339 and refused otherwise", () => {
  for (const v of ["2026-12-04T17:57:36Z", "2026-12-04T17:57:36.123+01:00"]) assert.deepEqual(validate(Query, { since: v }, "query"), { since: v });
  for (const v of ["yesterday", "2026-12-04", "2026-13-40T99:00:00Z", "2026-12-04 17:57:36Z"]) {
    assert.throws(() => validate(Query, { since: v }, "query"), { code: "op.invalid_input" }, v);
  }
});
