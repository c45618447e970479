/**
 * Layer decompression by sniffing the first bytes: gzip (zlib), zstd (fzstd,
 * since Node 20's zlib has none) or plain tar. The source is always read to
 * its end, so a digest check at the end of the source always runs.
 */
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import { ImageError } from "./errors.js";

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(buf: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

function corrupt(what: string, cause: unknown): ImageError {
  return new ImageError("unsafe_layer", `the layer's ${what} data is corrupt; re-push or rebuild the image`, { cause });
}

async function* gunzip(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  // A stream (not a call per chunk) so zlib works ahead in the thread pool while the caller writes files.
  const z = createGunzip({ chunkSize: 256 * 1024 });
  const input = Readable.from((async function* () {
    yield head;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  })());
  input.on("error", (err) => z.destroy(err));
  input.pipe(z);
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if ((err as NodeJS.ErrnoException).code?.startsWith("Z_")) throw corrupt("gzip", err);
    throw err;
  } finally {
    input.destroy();
  }
}

async function* unzstd(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const d = new Decompress((data) => out.push(Buffer.from(data.buffer, data.byteOffset, data.length)));
  try {
    d.push(head);
    yield* out.splice(0);
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      d.push(next.value);
      yield* out.splice(0);
    }
    d.push(new Uint8Array(0), true);
  } catch (err) {
    throw corrupt("zstd", err);
  }
  yield* out.splice(0);
}

/** Yields the uncompressed bytes of a layer blob, whatever its compression. */
export async function* decompress(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<Buffer> {
  const it = (async function* () {
    for await (const c of source) yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  })();
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  if (startsWith(head, GZIP)) yield* gunzip(head, it);
  else if (startsWith(head, ZSTD)) yield* unzstd(head, it);
  else {
    yield head;
    yield* it;
  }
}
