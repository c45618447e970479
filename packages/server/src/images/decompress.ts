/**
 * Layer decompression by sniffing the first bytes: gzip (zlib), zstd (fzstd,
 * since Node 20's zlib has none) or plain tar. The source is always read to
 * its end, so a digest check at the end of the source always runs.
 */
import { Readable } from "node:stream";
import { setImmediate } from "node:timers/promises";
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

/** Called with the size of each decompressed chunk before it is kept; throws to stop (a limit passed). */
export type Charge = (bytes: number) => void;

/**
 * fzstd decodes a whole push at once on the event loop, and a few bytes of a
 * crafted (or all-zero) stream expand to 128 KiB blocks. So input is fed in
 * slices sized from the expansion seen so far, aiming at about
 * ZSTD_PUSH_OUT_BYTES of output per push (a normal layer, ratio 3–5, gets
 * whole 64 KiB slices), and the loop gets a turn between pushes that made
 * output (the rest of the pipeline may be all microtasks).
 */
const ZSTD_PUSH_OUT_BYTES = 2 * 1024 * 1024;
const ZSTD_SLICE_MIN = 64;
const ZSTD_SLICE_MAX = 64 * 1024;

async function* gunzip(head: Buffer, rest: AsyncIterator<Buffer>, charge: Charge): AsyncGenerator<Buffer> {
  // A stream (not a call per chunk) so zlib works ahead in the thread pool while the caller writes files.
  const z = createGunzip({ chunkSize: 256 * 1024 });
  const input = Readable.from(
    (async function* () {
      yield head;
      for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
    })(),
  );
  input.on("error", (err) => z.destroy(err));
  input.pipe(z);
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) {
      charge(chunk.length);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if ((err as NodeJS.ErrnoException).code?.startsWith("Z_")) throw corrupt("gzip", err);
    throw err;
  } finally {
    input.destroy();
  }
}

async function* unzstd(head: Buffer, rest: AsyncIterator<Buffer>, charge: Charge): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  let inBytes = 0;
  let outBytes = 0;
  let slice = ZSTD_SLICE_MIN / 2;
  // fzstd calls this once per block, so a limit stops a bomb within a block of passing it.
  const d = new Decompress((data) => {
    charge(data.length);
    outBytes += data.length;
    out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  try {
    for (let chunk: Buffer | undefined = head; chunk !== undefined;) {
      for (let off = 0; off < chunk.length;) {
        // Before any output the ratio is unknown: start small and double (a big first block costs few re-copies).
        slice =
          outBytes === 0
            ? Math.min(ZSTD_SLICE_MAX, slice * 2)
            : Math.max(ZSTD_SLICE_MIN, Math.min(ZSTD_SLICE_MAX, Math.floor(ZSTD_PUSH_OUT_BYTES / (outBytes / inBytes))));
        const part = chunk.subarray(off, off + slice);
        off += part.length;
        inBytes += part.length;
        d.push(part);
        if (out.length > 0) {
          yield* out.splice(0);
          await setImmediate();
        }
      }
      const next = await rest.next();
      chunk = next.done ? undefined : next.value;
    }
    d.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw corrupt("zstd", err);
  }
  yield* out.splice(0);
}

/**
 * Yields the uncompressed bytes of a layer blob, whatever its compression.
 * `expansion`, when given, is told the compressed bytes read so far and the
 * uncompressed bytes made so far after each charge, and may throw to stop (a
 * bomb's ratio). The compressed count runs ahead of what zlib has consumed,
 * so the ratio it sees is never higher than the real one.
 */
export async function* decompress(
  source: AsyncIterable<Buffer | Uint8Array>,
  charge: Charge = () => undefined,
  expansion?: (inBytes: number, outBytes: number) => void,
): AsyncGenerator<Buffer> {
  let inBytes = 0;
  let outBytes = 0;
  const charged: Charge = expansion
    ? (n) => {
        charge(n);
        outBytes += n;
        expansion(inBytes, outBytes);
      }
    : charge;
  const it = (async function* () {
    for await (const c of source) {
      inBytes += c.byteLength;
      yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    }
  })();
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  if (startsWith(head, GZIP)) yield* gunzip(head, it, charged);
  else if (startsWith(head, ZSTD)) yield* unzstd(head, it, charged);
  else {
    // Plain tar: nothing expands.
    charge(head.length);
    yield head;
    for await (const chunk of it) {
      charge(chunk.length);
      yield chunk;
    }
  }
}
