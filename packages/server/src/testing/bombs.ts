/**
 * Image bombs for attack tests: layers and archives that are small on the
 * wire and expand past a limit (zeros compressed with gzip or the real zstd
 * tool), layers with many entries, and entries that claim a huge or sparse
 * size they never carry. Everything streams: nothing of the expanded size is
 * held in memory or written by the builders.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createGzip } from "node:zlib";
import { Readable } from "node:stream";
import { tarEntry } from "../images/tar-writer.js";
import { LayoutWriter } from "./oci-layout.js";
import { hostOciArch } from "./fixtures.js";

const BLOCK = 512;
const MiB = 1024 * 1024;

/** A tar header (no data) for a regular file of `size` bytes. */
function fileHeader(path: string, size: number): Buffer {
  const h = tarEntry({ path, type: "file" }).subarray(0, BLOCK);
  h.write(size.toString(8).padStart(11, "0") + "\0", 124, 12, "ascii");
  return withChecksum(h);
}

/** Recomputes a header block's checksum after a field was changed. */
export function withChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return block;
}

/** The uncompressed tar of one file of `sizeBytes` zeros, streamed in 1 MiB chunks. */
export async function* zeroFileTar(path: string, sizeBytes: number): AsyncGenerator<Buffer> {
  yield* repeatedFileTar(path, sizeBytes, Buffer.alloc(MiB));
}

/** A tar stream with one file of `sizeBytes`, its content `chunk` over and over. */
export async function* repeatedFileTar(path: string, sizeBytes: number, chunk: Buffer): AsyncGenerator<Buffer> {
  yield fileHeader(path, sizeBytes);
  for (let left = sizeBytes; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  yield Buffer.alloc(((BLOCK - (sizeBytes % BLOCK)) % BLOCK) + 2 * BLOCK);
}

/** A pax header entry ("x") carrying `records`, followed by the entry it applies to. */
export function paxEntry(records: Record<string, string>, entry: Buffer): Buffer {
  const body = Object.entries(records)
    .map(([k, v]) => {
      const rec = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(rec) + 1;
      while (String(len).length + Buffer.byteLength(rec) !== len) len = String(len).length + Buffer.byteLength(rec);
      return `${len}${rec}`;
    })
    .join("");
  const data = Buffer.from(body);
  const header = tarEntry({ path: "PaxHeader", type: "file", data }).subarray(0, BLOCK);
  header.write("x", 156, 1, "ascii");
  const padded = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK);
  data.copy(padded);
  return Buffer.concat([withChecksum(Buffer.from(header)), padded, entry]);
}

/** An entry whose header claims `claimedBytes` of data but carries none (the archive just ends). */
export function claimedSizeTar(claimedBytes: number): Buffer {
  return Buffer.concat([paxEntry({ size: String(claimedBytes) }, fileHeader("huge", 0)), Buffer.alloc(2 * BLOCK)]);
}

/** A GNU sparse (pax 0.1 style) entry: 1 byte stored, `realBytes` apparent. */
export function sparseTar(realBytes: number): Buffer {
  const stored = Buffer.concat([fileHeader("sparse", 1), Buffer.alloc(BLOCK)]);
  return Buffer.concat([
    paxEntry(
      { "GNU.sparse.size": String(realBytes), "GNU.sparse.numblocks": "1", "GNU.sparse.offset": "0", "GNU.sparse.numbytes": "1", "GNU.sparse.name": "sparse" },
      stored,
    ),
    Buffer.alloc(2 * BLOCK),
  ]);
}

/** A tar with `count` empty files. */
export function manyEntriesTar(count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(tarEntry({ path: `f${i}`, type: "file" }));
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

export interface Compressed {
  blob: Buffer;
  /** sha256 of the uncompressed stream (the layer's diff id). */
  diffId: string;
}

/** Compresses a stream with gzip (zlib) or zstd (the zstd tool), hashing the input on the way. */
export async function compress(source: AsyncIterable<Buffer>, kind: "gzip" | "zstd" | "none"): Promise<Compressed> {
  const hash = createHash("sha256");
  const hashed = (async function* () {
    for await (const c of source) {
      hash.update(c);
      yield c;
    }
  })();
  const out: Buffer[] = [];
  if (kind === "none") {
    for await (const c of hashed) out.push(Buffer.from(c));
  } else if (kind === "gzip") {
    const z = Readable.from(hashed).pipe(createGzip({ level: 6 }));
    for await (const c of z as AsyncIterable<Buffer>) out.push(c);
  } else {
    const child = spawn("zstd", ["-q", "-c", "-3"], { stdio: ["pipe", "pipe", "inherit"] });
    const done = new Promise<void>((resolve, reject) => child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`zstd exited ${code}`)))));
    child.stdout.on("data", (c: Buffer) => out.push(c));
    for await (const c of hashed) if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once("drain", r));
    child.stdin.end();
    await done;
  }
  return { blob: Buffer.concat(out), diffId: `sha256:${hash.digest("hex")}` };
}

/** Writes an OCI layout at `dir` with one image whose layers are `layers`, tagged `latest`. */
export function bombLayout(dir: string, layers: Array<Compressed & { mediaType: string }>): void {
  const w = new LayoutWriter(dir);
  const config = {
    architecture: hostOciArch(),
    os: "linux",
    created: "2024-01-01T00:00:00Z",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  };
  const configDesc = w.blob(Buffer.from(JSON.stringify(config)), "application/vnd.oci.image.config.v1+json");
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: configDesc,
    layers: layers.map((l) => w.blob(l.blob, l.mediaType)),
  };
  w.finish(w.blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType), "latest");
}
