/**
 * Request body reading with a hard size cap. The cap is enforced on the
 * declared Content-Length up front and on the bytes actually received, so a
 * lying or chunked client cannot make the server buffer more than the limit.
 */
import type { IncomingMessage } from "node:http";
import { AppError, invalidInput } from "../domain/errors.js";

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

function tooLarge(limit: number): AppError {
  return new AppError("op.payload_too_large", `request body is larger than ${limit} bytes; send less data per request`, { detail: { limitBytes: limit } });
}

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON body; an empty body is `undefined` so optional bodies work. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw invalidInput(`request body is not valid JSON: ${(err as Error).message}`, { location: "body" });
  }
}
