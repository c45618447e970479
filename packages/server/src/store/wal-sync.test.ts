// Group commit: concurrent syncs share fdatasyncs of the WAL (one running, at
// most one queued behind it), a closed database refuses to sync, a WAL replaced
// or removed at its path is never synced through a stale fd, and the
// sandbox insert commits without SQLite's own fsync and hands its durability
// to the WalSync.
import assert from "node:assert/strict";
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { SandboxStore, type NewSandboxRow } from "./sandbox-store.js";
import { TenantStore } from "./tenant-store.js";
import { WalSync } from "./wal-sync.js";
import { sandboxRow } from "../testing/sandbox-rows.js";
import { openTempDb, type TempDb } from "../testing/temp-db.js";

let tmp: TempDb;
let wal: WalSync;

beforeEach(() => {
  tmp = openTempDb("nimbus-wal-");
  new TenantStore(tmp.db).insert("t1", new Date().toISOString());
  wal = WalSync.of(tmp.db);
});

afterEach(() => {
  wal.close();
  tmp.close();
});

const row = (id: string): NewSandboxRow => sandboxRow(id, "2026-01-01T00:00:00.000Z");

test("syncs made while one runs share the next fdatasync; later ones start a new one", async () => {
  const first = wal.sync();
  const second = wal.sync();
  const third = wal.sync();
  assert.notEqual(second, first, "a commit made after the running fdatasync was queued needs the next one");
  assert.equal(third, second, "every caller waiting for the next fdatasync shares it");
  await Promise.all([first, second, third]);
  const fourth = wal.sync();
  assert.notEqual(fourth, second, "once idle, a sync starts its own fdatasync");
  await fourth;
});

test("a sync after close rejects, and close waits for a running fdatasync", async () => {
  const running = wal.sync();
  wal.close();
  await running;
  await assert.rejects(wal.sync(), /the database is closed/);
});

test("a WAL no longer at its path is never synced in silence: a new file is opened, a missing one is an error", async () => {
  const path = join(tmp.dir, "file-wal");
  writeFileSync(path, "a");
  const w = new WalSync(path);
  try {
    await w.sync();
    renameSync(path, join(tmp.dir, "old-wal"));
    writeFileSync(path, "b");
    await w.sync(); // the new file
    unlinkSync(path);
    await assert.rejects(w.sync(), { code: "ENOENT" });
  } finally {
    w.close();
  }
});

test("the sandbox insert commits without SQLite's fsync and is durable when the WalSync says so", async () => {
  let release!: () => void;
  const synced = new Promise<void>((r) => (release = r));
  let syncs = 0;
  const store = new SandboxStore(tmp.db, { sync: () => (syncs++, synced) });
  const inserted = store.insert(row("a"));
  assert.equal(store.get("t1", "a")?.lifecycleState, "starting", "visible at once");
  assert.equal(syncs, 1);
  assert.equal(inserted.durable, synced);
  assert.equal(tmp.db.pragma("synchronous", { simple: true }), 2, "FULL again for every other write");
  release();
  await inserted.durable;
  // Without a WalSync, SQLite syncs the commit itself.
  const plain = new SandboxStore(tmp.db).insert(row("b"));
  await plain.durable;
  assert.equal(plain.row.id, "b");
});
