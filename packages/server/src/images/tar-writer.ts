/**
 * A small tar writer (ustar headers, pax extended headers for long names,
 * large ids and xattrs). Used to hand overlay metadata to GNU tar during
 * unpack, and by test fixtures to build layers, including hostile ones.
 */

export interface TarWriteEntry {
  path: string;
  type: "file" | "hardlink" | "symlink" | "dir" | "char" | "block" | "fifo";
  data?: Buffer | string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  /** Emit this raw string as the ustar name even if it would need pax (for hostile fixtures). */
  rawName?: boolean;
}

const FLAGS = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" } as const;
const BLOCK = 512;

function octal(buf: Buffer, value: number, start: number, len: number): void {
  buf.write(value.toString(8).padStart(len - 1, "0") + "\0", start, len, "ascii");
}

function header(name: string, flag: string, size: number, e: Partial<TarWriteEntry>): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, "utf8");
  octal(b, (e.mode ?? 0o644) & 0o7777, 100, 8);
  octal(b, Math.min(e.uid ?? 0, 0o7777777), 108, 8);
  octal(b, Math.min(e.gid ?? 0, 0o7777777), 116, 8);
  octal(b, size, 124, 12);
  octal(b, Math.floor(e.mtime ?? 0), 136, 12);
  b.write(flag, 156, 1, "ascii");
  b.write((e.linkpath ?? "").slice(0, 100), 157, 100, "utf8");
  b.write("ustar\x0000", 257, 8, "latin1");
  octal(b, e.devmajor ?? 0, 329, 8);
  octal(b, e.devminor ?? 0, 337, 8);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return b;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function pad(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/**
 * The header blocks of one entry (a pax header first when needed) for a body
 * of `sizeBytes`, which the caller streams after it, followed by
 * {@link tarPadding}: for archives too large to hold in memory.
 */
export function tarHeader(e: TarWriteEntry, sizeBytes: number): Buffer {
  const pax: string[] = [];
  if (!e.rawName && Buffer.byteLength(e.path) > 100) pax.push(paxRecord("path", e.path));
  if (Buffer.byteLength(e.linkpath ?? "") > 100) pax.push(paxRecord("linkpath", e.linkpath!));
  if ((e.uid ?? 0) > 0o7777777) pax.push(paxRecord("uid", String(e.uid)));
  if ((e.gid ?? 0) > 0o7777777) pax.push(paxRecord("gid", String(e.gid)));
  if (sizeBytes > 0o77777777777) pax.push(paxRecord("size", String(sizeBytes)));
  if (e.mtime !== undefined && !Number.isInteger(e.mtime)) pax.push(paxRecord("mtime", e.mtime.toFixed(9)));
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const parts: Buffer[] = [];
  if (pax.length > 0) {
    const body = Buffer.from(pax.join(""));
    parts.push(header("PaxHeader", "x", body.length, {}), body, pad(body.length));
  }
  parts.push(header(e.path.slice(0, 100), FLAGS[e.type], Math.min(sizeBytes, 0o77777777777), e));
  return Buffer.concat(parts);
}

/** The zero bytes that round an entry's body of `sizeBytes` up to a whole block. */
export function tarPadding(sizeBytes: number): Buffer {
  return pad(sizeBytes);
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(BLOCK * 2);

/** Serialises one entry (with a pax header when needed). */
export function tarEntry(e: TarWriteEntry): Buffer {
  const data = e.type === "file" ? Buffer.from(e.data ?? "") : Buffer.alloc(0);
  return Buffer.concat([tarHeader(e, data.length), data, pad(data.length)]);
}

/** A whole archive, with the two zero blocks that end it. */
export function tarArchive(entries: TarWriteEntry[]): Buffer {
  return Buffer.concat([...entries.map(tarEntry), TAR_END]);
}
