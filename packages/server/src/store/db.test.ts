// The connection's durability settings: FULL by default, NORMAL only inside
// withoutFsync and restored even when the commit throws; and statements are
// prepared once per connection.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { statement, withoutFsync } from "./db.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";

let tmp: TempDb;
const synchronous = () => tmp.db.pragma("synchronous", { simple: true }); // 2 = FULL, 1 = NORMAL

beforeEach(() => {
  tmp = openTempDb("nimbus-db-");
});

afterEach(() => {
  tmp.close();
});

test("commits are FULL (fsynced) except inside withoutFsync, which always restores FULL", () => {
  assert.equal(synchronous(), 2);
  assert.equal(tmp.db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(
    withoutFsync(tmp.db, () => synchronous()),
    1,
  );
  assert.equal(synchronous(), 2);
  assert.throws(
    () =>
      withoutFsync(tmp.db, () => {
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(synchronous(), 2, "restored after a throw");
});

test("a statement is prepared once per connection and per SQL text", () => {
  const a = statement(tmp.db, "SELECT 1 AS one");
  assert.equal(statement(tmp.db, "SELECT 1 AS one"), a);
  assert.notEqual(statement(tmp.db, "SELECT 2 AS two"), a);
  assert.deepEqual(a.get(), { one: 1 });
});
