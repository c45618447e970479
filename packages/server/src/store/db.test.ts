// The connection's durability settings: FULL by default, NORMAL only inside
// withoutFsync and restored even when the commit throws; and statements are
// prepared once per connection.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { openDatabase, statement, withoutFsync, type Db } from "./db.js";

let dir: string;
let db: Db;
const synchronous = () => db.pragma("synchronous", { simple: true }); // 2 = FULL, 1 = NORMAL

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-db-"));
  db = openDatabase(dir);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test("commits are FULL (fsynced) except inside withoutFsync, which always restores FULL", () => {
  assert.equal(synchronous(), 2);
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(
    withoutFsync(db, () => synchronous()),
    1,
  );
  assert.equal(synchronous(), 2);
  assert.throws(
    () =>
      withoutFsync(db, () => {
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(synchronous(), 2, "restored after a throw");
});

test("a statement is prepared once per connection and per SQL text", () => {
  const a = statement(db, "SELECT 1 AS one");
  assert.equal(statement(db, "SELECT 1 AS one"), a);
  assert.notEqual(statement(db, "SELECT 2 AS two"), a);
  assert.deepEqual(a.get(), { one: 1 });
});
