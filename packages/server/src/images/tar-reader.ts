/**
 * A streaming tar reader: ustar, GNU long names/links (`L`/`K`), pax
 * extended headers (`x`, `g`: path, linkpath, size, uid, gid, mtime and
 * SCHILY.xattr.*), octal and base-256 numbers. Entries are yielded one at a
 * time with a body iterator; unread bodies are skipped. Input that is not a
 * tar archive fails with `ImageError("unsafe_layer")`.
 */
import { ImageError } from "./errors.js";

export type TarEntryType = "file" | "hardlink" | "symlink" | "dir" | "char" | "block" | "fifo";

export interface TarHeader {
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, possibly fractional (pax). */
  mtime: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, string>;
  /** Size the file claims once extracted: the larger of `size` and a sparse entry's real size. */
  apparentSize: number;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; may be iterated at most once, before the next entry is requested. */
  body(): AsyncIterable<Buffer>;
}

const BLOCK = 512;
const MAX_EXTENDED_HEADER = 1 << 20;
const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

function bad(why: string): ImageError {
  return new ImageError("unsafe_layer", `the layer is not a valid tar archive (${why}); re-push or rebuild the image`);
}

/** Pulls exact byte counts out of an async chunk source. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    return this.buffered >= n;
  }

  /** Takes n buffered bytes, copying only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const head = this.chunks[0]!;
    if (head.length >= n) {
      if (head.length === n) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
      return head.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n;) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
      off += k;
    }
    return out;
  }

  async read(n: number): Promise<Buffer | undefined> {
    return (await this.fill(n)) ? this.take(n) : undefined;
  }

  /** Yields exactly n bytes in chunks as they arrive. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw bad("truncated entry data");
      const head = this.chunks[0]!;
      if (head.length <= left) {
        this.chunks.shift();
        this.buffered -= head.length;
        left -= head.length;
        yield head;
      } else {
        this.chunks[0] = head.subarray(left);
        this.buffered -= left;
        yield head.subarray(0, left);
        left = 0;
      }
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) {
      /* discard */
    }
  }

  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (!this.done) if ((await this.source.next()).done) this.done = true;
  }
}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString("utf8");
}

function num(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    let value = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) value = value * 256 + buf[i]!;
    return value;
  }
  const text = cString(buf, start, len).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw bad(`bad numeric field "${text}"`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!;
  return sum === num(block, 148, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = parseInt(data.subarray(pos, space).toString("ascii"), 10);
    if (space < 0 || !Number.isFinite(len) || len <= 0 || pos + len > data.length) throw bad("malformed pax record");
    const record = data.subarray(space + 1, pos + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function applyPax(h: TarHeader, pax: Record<string, string>): void {
  for (const [key, value] of Object.entries(pax)) {
    if (key === "path") h.path = value;
    else if (key === "linkpath") h.linkpath = value;
    else if (key === "size") h.size = Number(value);
    else if (key === "uid") h.uid = Number(value);
    else if (key === "gid") h.gid = Number(value);
    else if (key === "mtime") h.mtime = Number(value);
    else if (key.startsWith("SCHILY.xattr.")) h.xattrs[key.slice("SCHILY.xattr.".length)] = value;
    // GNU sparse files (pax formats 0.x and 1.0): the size the file has once its holes are filled in.
    else if (key === "GNU.sparse.realsize" || key === "GNU.sparse.size") h.apparentSize = Math.max(h.apparentSize, Number(value));
  }
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw bad("bad pax size");
  if (!Number.isSafeInteger(h.apparentSize) || h.apparentSize < 0) throw bad("bad sparse size");
}

function parseHeader(block: Buffer): { header: TarHeader; flag: string } {
  if (!checksumOk(block)) throw bad("header checksum mismatch");
  const flag = String.fromCharCode(block[156]!);
  let path = cString(block, 0, 100);
  if (block.subarray(257, 263).toString("latin1") === "ustar\0") {
    const prefix = cString(block, 345, 155);
    if (prefix) path = `${prefix}/${path}`;
  }
  const header: TarHeader = {
    path,
    type: TYPES[flag] ?? "file",
    size: num(block, 124, 12),
    mode: num(block, 100, 8) & 0o7777,
    uid: num(block, 108, 8),
    gid: num(block, 116, 8),
    mtime: num(block, 136, 12),
    linkpath: cString(block, 157, 100),
    devmajor: num(block, 329, 8),
    devminor: num(block, 337, 8),
    xattrs: {},
    // An old-GNU sparse entry ("S") keeps its real size at offset 483.
    apparentSize: flag === "S" ? num(block, 483, 12) : 0,
  };
  return { header, flag };
}

/** Reads a tar stream entry by entry; drains the source after the end marker. */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  const globalPax: Record<string, string> = {};
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === undefined) throw bad("archive ends without an end-of-archive marker");
    if (block.every((b) => b === 0)) break;
    const { header, flag } = parseHeader(block);
    const padded = Math.ceil(header.size / BLOCK) * BLOCK;
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (header.size > MAX_EXTENDED_HEADER) throw bad("extended header larger than 1 MiB");
      const data = await reader.read(padded);
      if (data === undefined) throw bad("truncated extended header");
      const payload = data.subarray(0, header.size);
      if (flag === "x") pax = { ...pax, ...parsePax(payload) };
      else if (flag === "g") Object.assign(globalPax, parsePax(payload));
      else if (flag === "L") longName = cString(payload, 0, payload.length);
      else longLink = cString(payload, 0, payload.length);
      continue;
    }
    if (longName !== undefined) header.path = longName;
    if (longLink !== undefined) header.linkpath = longLink;
    applyPax(header, { ...globalPax, ...pax });
    pax = {};
    longName = longLink = undefined;
    // Like Go's archive/tar: header-only types carry no data whatever their size field says.
    if (header.type !== "file") header.size = 0;
    header.apparentSize = header.type === "file" ? Math.max(header.size, header.apparentSize) : 0;
    const dataSize = header.size;
    let consumed = false;
    const entry: TarEntry = {
      header,
      body: () => {
        if (consumed) throw new Error("tar entry body already read");
        consumed = true;
        return reader.stream(dataSize);
      },
    };
    yield entry;
    if (!consumed) await reader.skip(dataSize);
    await reader.skip(Math.ceil(dataSize / BLOCK) * BLOCK - dataSize);
  }
  await reader.drain();
}
