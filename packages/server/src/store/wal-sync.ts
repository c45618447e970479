/**
 * Group commit for SQLite's write-ahead log. A commit made with
 * synchronous=NORMAL (withoutFsync in db.ts) is in the WAL but maybe not on
 * disk yet; sync() makes it durable with one fdatasync of the WAL on the thread
 * pool, shared by every commit made before that fdatasync was queued. So the
 * event loop never waits for the disk, and a burst of N creates pays for about
 * two fsyncs instead of N, each of which held every request for 2-40 ms while
 * containers were being created.
 *
 * Why this is as safe as synchronous=FULL for the commits it covers: WAL with
 * NORMAL keeps the database consistent across a power loss (it can only lose
 * the newest commits), and one fdatasync of the WAL file covers every byte
 * SQLite wrote to it, frames and header alike, which is what FULL syncs at
 * commit time. A checkpoint syncs the WAL and the database itself.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from "node:fs";
import type { Db } from "./db.js";

export class WalSync {
  private fd: number | undefined;
  private ino: number | undefined;
  /** The fdatasync on the pool now; commits made after it was queued need the next one. */
  private running: Promise<void> | undefined;
  /** The next fdatasync, queued behind `running`; it covers every commit made until it starts. */
  private next: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly walPath: string) {}

  static of(db: Db): WalSync {
    return new WalSync(`${db.name}-wal`);
  }

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    this.next = this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  /** Closes the WAL's fd; a sync still on the pool keeps its own until it ends. */
  close(): void {
    this.closed = true;
    if (!this.running && this.fd !== undefined) closeSync(this.fd);
    if (!this.running) this.fd = undefined;
  }

  /**
   * The WAL's fd, opened on first use (SQLite creates the file with its first
   * write) and opened again if the file at the path is no longer the one we hold:
   * syncing a replaced WAL would lose durability without a sound. SQLite keeps
   * one WAL file while the connection is open, so this is insurance, one stat.
   */
  private walFd(): number {
    const ino = statSync(this.walPath).ino;
    if (this.fd !== undefined && ino !== this.ino) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.fd === undefined) {
      this.fd = openSync(this.walPath, "r");
      this.ino = fstatSync(this.fd).ino;
    }
    return this.fd;
  }

  private start(): Promise<void> {
    this.next = undefined;
    const p = new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new Error("the database is closed"));
      fdatasync(this.walFd(), (err) => (err ? reject(err) : resolve()));
    }).finally(() => {
      if (this.running !== p) return;
      this.running = undefined;
      if (this.closed && this.fd !== undefined) {
        closeSync(this.fd);
        this.fd = undefined;
      }
    });
    this.running = p;
    return p;
  }
}
