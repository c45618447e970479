/**
 * The stdio channel's transports (contract §5, ext): the NDJSON pair
 * (`GET …/channels/stdio/stream` + `POST …/channels/stdio/input`) and the
 * WebSocket `GET …/channels/stdio`. Both only map the domain's channel events
 * (domain/stdio-channel.ts) to frames:
 *
 *   NDJSON: {"kind":"opened","channel","targetGeneration","cursor","oldestCursor","head"}
 *           {"kind":"gap","from","to","reason"}      bytes the log cap dropped (log_capped), or from where output may be missing (disk_full)
 *           {"kind":"stdout"|"stderr","data","encoding"?,"cursor"}  cursor = offset after data
 *           {"kind":"exit","code"}  {"kind":"closed","reason"}
 *   WebSocket: binary frames = raw bytes both ways (client → stdin); text frames
 *           = JSON control: {"type":"resize","cols","rows"}, {"type":"stdin","data","encoding"?}
 *           and {"type":"eof"} from the client (a `notice` answers an EOF this sandbox cannot take);
 *           {"type":"opened"|"gap"|"exit"|"closed",...} from the server, and
 *           {"type":"stdout"|"stderr","data","cursor"} with ?framing=json.
 */
import { Type } from "@sinclair/typebox";
import type { WebSocket } from "ws";
import { invalidInput } from "../../domain/errors.js";
import type { ChannelEvent, ChannelSink, StdioChannels } from "../../domain/stdio-channel.js";
import { openNdjson } from "../ndjson.js";
import { route, type RouteDef } from "../route.js";
import { SessionParams } from "../schemas/session.js";
import { ChannelFrameSchema, ndjsonLineOf, strictObject, TenantIdSchema } from "../schemas/common.js";
import { validate } from "../validate.js";
import { wsRoute, type WsRouteDef } from "../ws.js";
import { END_GRACE_MS, frameText, wsControl, wsEventSink } from "../output-frames.js";

const Encoding = Type.Union([Type.Literal("utf8"), Type.Literal("base64")], { description: "how `data` is encoded; default utf8 (lossy for binary output)" });
const Cursor = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "replay output from this byte offset (an earlier frame's `cursor`); default: only new output",
});

const StreamQuery = strictObject({ tenantId: Type.Optional(TenantIdSchema), encoding: Type.Optional(Encoding), cursor: Type.Optional(Cursor) });
const InputQuery = strictObject({ tenantId: Type.Optional(TenantIdSchema) });
const InputBody = strictObject({
  data: Type.Optional(Type.String({ description: "bytes for the process's stdin" })),
  encoding: Type.Optional(Encoding),
  eof: Type.Optional(
    Type.Boolean({
      description:
        "end of input, after `data`: closes the process's stdin if the sandbox was created with `process.closableStdin` (`eofDelivered` says whether it was)",
    }),
  ),
});
const WsQuery = strictObject({
  tenantId: Type.Optional(TenantIdSchema),
  cursor: Type.Optional(Cursor),
  framing: Type.Optional(Type.Union([Type.Literal("binary"), Type.Literal("json")], { description: "output as binary frames (default) or JSON text frames" })),
  encoding: Type.Optional(Encoding),
});
const ResizeMessage = strictObject({
  type: Type.Literal("resize"),
  cols: Type.Integer({ minimum: 1, maximum: 65535 }),
  rows: Type.Integer({ minimum: 1, maximum: 65535 }),
});

/** Why, precisely: runtime/container/attach.ts (conmon closes stdin only when an attach client disconnects). */
const EOF_NOT_DELIVERED =
  "this sandbox keeps its main process's stdin open between sessions and across server restarts, so EOF is not delivered to it; create the sandbox with process.closableStdin to be able to close it, detach (close the stream) instead, or run a process that reads to EOF with the processes API";

/** Output data per NDJSON frame: lines of a few hundred KiB cost readers (the SDK's fetch) several times more per byte. */
const NDJSON_FRAME_BYTES = 64 * 1024;

/** An output event as frames of at most NDJSON_FRAME_BYTES, each with its own cursor; other events as they are. */
function ndjsonParts(ev: ChannelEvent): ChannelEvent[] {
  if ((ev.kind !== "stdout" && ev.kind !== "stderr") || ev.data.length <= NDJSON_FRAME_BYTES) return [ev];
  const parts: ChannelEvent[] = [];
  const start = ev.cursor - ev.data.length;
  for (let off = 0; off < ev.data.length; off += NDJSON_FRAME_BYTES) {
    const data = ev.data.subarray(off, off + NDJSON_FRAME_BYTES);
    parts.push({ kind: ev.kind, data, cursor: start + off + data.length });
  }
  return parts;
}

export function decodeInput(body: { data?: string; encoding?: "utf8" | "base64" }): Buffer {
  if (body.data === undefined) return Buffer.alloc(0);
  if (body.encoding === "base64") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.data) || body.data.length % 4 === 1) throw invalidInput("`data` is not valid base64", { field: "data" });
    return Buffer.from(body.data, "base64");
  }
  return Buffer.from(body.data, "utf8");
}

const InputAccepted = Type.Object({
  bytes: Type.Integer({ description: "how many bytes were handed to stdin" }),
  eofDelivered: Type.Optional(Type.Boolean()),
  message: Type.Optional(Type.String()),
});

export function stdioChannelRoutes(channels: StdioChannels): RouteDef[] {
  return [
    route({
      method: "GET",
      path: "/api/sessions/:id/channels/stdio/stream",
      access: "tenant",
      tag: "sessions",
      summary: "(ext) Attach to the sandbox's main process output as NDJSON frames, replayed from `cursor` then live",
      params: SessionParams,
      query: StreamQuery,
      responses: {
        200: { description: "opened, gap, stdout, stderr, exit, closed", contentType: "application/x-ndjson", schema: ndjsonLineOf(ChannelFrameSchema) },
      },
      handler: async (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.query.tenantId);
        const encoding = ctx.query.encoding ?? "utf8";
        const { res } = ctx;
        let stream: ReturnType<typeof openNdjson> | undefined;
        const sink: ChannelSink = {
          send(ev, flushed) {
            stream ??= openNdjson(ctx.req, res, ctx.requestId);
            if (stream.closed) return flushed();
            const parts = ndjsonParts(ev);
            // `flushed` once, with the last part.
            parts.forEach((part, i) => res.write(frameText(part, "kind", encoding) + "\n", i === parts.length - 1 ? () => flushed() : undefined));
          },
          end() {
            stream?.end();
            setTimeout(() => res.destroy(), END_GRACE_MS).unref();
          },
        };
        // Errors before the first frame (409, 404) still answer as the JSON envelope.
        const attachment = await channels.attach(tenantId, ctx.params.id, { cursor: ctx.query.cursor }, sink);
        ctx.handled = true;
        stream ??= openNdjson(ctx.req, res, ctx.requestId);
        stream.onClose(() => attachment.detach());
      },
    }),
    route({
      method: "POST",
      path: "/api/sessions/:id/channels/stdio/input",
      access: "tenant",
      tag: "sessions",
      summary: "(ext) Write bytes to the sandbox's main process stdin, in order with every other writer",
      params: SessionParams,
      query: InputQuery,
      body: InputBody,
      responses: { 202: { description: "handed to the process's stdin", schema: InputAccepted } },
      handler: async (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.query.tenantId);
        const data = decodeInput(ctx.body);
        const { eofDelivered } = await channels.input(tenantId, ctx.params.id, data, ctx.body.eof === true);
        const body: Record<string, unknown> = { bytes: data.length };
        if (eofDelivered !== undefined) Object.assign(body, { eofDelivered }, eofDelivered ? {} : { message: EOF_NOT_DELIVERED });
        return { status: 202, body };
      },
    }),
    route({
      method: "GET",
      path: "/api/sessions/:id/channels/stdio",
      access: "tenant",
      tag: "sessions",
      summary: "(ext) WebSocket to the sandbox's main process: binary frames carry raw bytes both ways, text frames JSON control",
      params: SessionParams,
      query: WsQuery,
      responses: { 101: { description: "switched to the WebSocket protocol" } },
      handler: () => {
        throw invalidInput("this route is a WebSocket: send `Connection: Upgrade` and `Upgrade: websocket`, or use …/channels/stdio/stream for NDJSON", {
          field: "upgrade",
        });
      },
    }),
  ];
}

export function stdioChannelWsRoutes(channels: StdioChannels): WsRouteDef[] {
  return [
    wsRoute({
      path: "/api/sessions/:id/channels/stdio",
      params: SessionParams,
      query: WsQuery,
      accept: async (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.query.tenantId);
        const sessionId = ctx.params.id;
        await channels.prepare(tenantId, sessionId);
        const json = ctx.query.framing === "json";
        const encoding = ctx.query.encoding ?? "utf8";
        return (ws: WebSocket) => {
          const sink: ChannelSink = wsEventSink(ws, { json, encoding });
          const fail = wsControl(ws);
          let inputs = Promise.resolve();
          let attachment: { detach(): void } | undefined;
          ws.on("close", () => attachment?.detach());
          ws.on("message", (data: Buffer, isBinary: boolean) => {
            if (isBinary) {
              inputs = inputs.then(async () => void (await channels.input(tenantId, sessionId, data))).catch(fail);
              return;
            }
            let msg: unknown;
            try {
              msg = JSON.parse(data.toString("utf8"));
            } catch {
              return fail(invalidInput('a text frame must be a JSON control message such as {"type":"resize","cols":80,"rows":24}'));
            }
            const type = (msg as { type?: unknown })?.type;
            if (type === "eof") {
              inputs = inputs
                .then(() => channels.input(tenantId, sessionId, Buffer.alloc(0), true))
                .then(({ eofDelivered }) => {
                  if (!eofDelivered && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "notice", message: EOF_NOT_DELIVERED }));
                })
                .catch(fail);
              return;
            }
            if (type === "stdin" && typeof (msg as { data?: unknown }).data === "string") {
              const bytes = decodeInput(msg as { data: string; encoding?: "utf8" | "base64" });
              inputs = inputs.then(async () => void (await channels.input(tenantId, sessionId, bytes))).catch(fail);
              return;
            }
            try {
              const resize = validateResize(msg);
              inputs = inputs.then(() => channels.resize(tenantId, sessionId, resize.rows, resize.cols)).catch(fail);
            } catch (err) {
              fail(err);
            }
          });
          channels.attach(tenantId, sessionId, { cursor: ctx.query.cursor }, sink).then(
            (a) => {
              attachment = a;
              if (ws.readyState !== ws.OPEN) a.detach();
            },
            (err) => {
              const e = err as { code?: string; message?: string };
              if (ws.readyState === ws.OPEN)
                ws.send(JSON.stringify({ type: "closed", reason: e.code === "op.conflict" ? "session_not_open" : "error", message: e.message }));
              sink.end();
            },
          );
        };
      },
    }),
  ];
}

function validateResize(msg: unknown): { cols: number; rows: number } {
  return validate(ResizeMessage, msg, "body");
}
