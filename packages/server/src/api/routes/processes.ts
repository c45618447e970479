/**
 * (ext) Processes in a sandbox (issue 18): start, list, get, signal, resize,
 * stdin, and the output over NDJSON (`GET …/processes/{pid}/stream`) or a
 * WebSocket (`GET …/processes/{pid}/ws`). The frames are the stdio channel's:
 *
 *   NDJSON: {"kind":"opened","processId","cursor","oldestCursor","head"}
 *           {"kind":"gap","from","to","reason"}
 *           {"kind":"stdout"|"stderr","data","encoding":"base64","cursor"}
 *           {"kind":"exit","code","signal"?,"reason"?}  {"kind":"closed","reason"}
 *   WebSocket: binary frames = raw output bytes (stdout, or the terminal) out and
 *           stdin in; with `tty` absent, stderr comes as binary frames too unless
 *           ?framing=json (then {"type":"stdout"|"stderr","data"(base64),"cursor"}).
 *           Text frames are JSON control: {"type":"resize","cols","rows"},
 *           {"type":"eof"} from the client; {"type":"opened"|"gap"|"exit"|"closed"|"error"} from the server.
 *           A binary output frame is preceded by {"type":"stdout"|"stderr","cursor"} only with ?framing=json.
 */
import { Type } from "@sinclair/typebox";
import type { WebSocket } from "ws";
import { invalidInput } from "../../domain/errors.js";
import { ProcessOutput, type ProcessSink } from "../../domain/process-output.js";
import type { Processes } from "../../domain/processes.js";
import { openNdjson } from "../ndjson.js";
import { decodeInput } from "./channels-stdio.js";
import { route, type RouteDef } from "../route.js";
import { ChannelFrameSchema, PathNameSchema, TenantIdSchema, strictObject } from "../schemas/common.js";
import { validate } from "../validate.js";
import { wsRoute, type WsRouteDef } from "../ws.js";
import { frameText, wsControl, wsEventSink } from "../output-frames.js";
import { ProcessInfoSchema, TtySize } from "../schemas/process.js";

const SIGNALS = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGCONT", "SIGSTOP", "SIGWINCH"] as const;

const StartBody = strictObject({
  argv: Type.Optional(Type.Array(Type.String({ maxLength: 128 * 1024 }), { minItems: 1, maxItems: 4096, description: "the command and its arguments" })),
  cmd: Type.Optional(Type.String({ minLength: 1, maxLength: 128 * 1024, description: "a shell command line, run with /bin/sh -c (instead of argv)" })),
  env: Type.Optional(Type.Array(Type.String({ pattern: "^[^=\\u0000]+=[^\\u0000]*$" }), { maxItems: 4096 })),
  cwd: Type.Optional(Type.String({ pattern: "^/[^\\u0000]*$", maxLength: 4096 })),
  user: Type.Optional(
    Type.String({ pattern: "^(?:0|[1-9][0-9]{0,9})(?::(?:0|[1-9][0-9]{0,9}))?$", description: "numeric uid[:gid] in 0..4294967294, default 0:0" }),
  ),
  stdin: Type.Optional(Type.Boolean({ description: "keep a stdin to write to (POST …/stdin); default: /dev/null" })),
  tty: Type.Optional(strictObject(TtySize, "run on a terminal of this size (stdout and stderr are then one stream)")),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description: "kill its process group after this long" })),
  detach: Type.Optional(Type.Boolean({ description: "keep running when no client reads it; default false: killed when its last reader leaves" })),
});

const ProcessParams = strictObject({ tenantId: TenantIdSchema, id: PathNameSchema, pid: PathNameSchema });
const SandboxParams = strictObject({ tenantId: TenantIdSchema, id: PathNameSchema });
const Cursor = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "replay output from this byte offset (an earlier frame's `cursor`); default: only new output",
});
const StreamQuery = strictObject({ cursor: Type.Optional(Cursor) });
const WsQuery = strictObject({
  cursor: Type.Optional(Cursor),
  framing: Type.Optional(Type.Union([Type.Literal("binary"), Type.Literal("json")], { description: "output as binary frames (default) or JSON text frames" })),
});
const StdinBody = strictObject({
  data: Type.Optional(Type.String({ description: "bytes for stdin" })),
  encoding: Type.Optional(Type.Union([Type.Literal("utf8"), Type.Literal("base64")], { description: "how `data` is encoded; default utf8" })),
  eof: Type.Optional(Type.Boolean({ description: "then close stdin: the process reads end-of-file" })),
});
const ResizeMessage = strictObject({ type: Type.Literal("resize"), ...TtySize });
const Ok = strictObject({ ok: Type.Boolean() });

export function processRoutes(processes: Processes): RouteDef[] {
  return [
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes",
      operationId: "startProcess",
      access: "tenant",
      tag: "processes",
      summary: "(ext) Start a process in a ready sandbox; answers its id at once (read its output with …/stream or …/ws)",
      params: SandboxParams,
      body: StartBody,
      responses: { 201: { description: "started", schema: ProcessInfoSchema } },
      handler: async (ctx) => ({ status: 201, body: await processes.create(ctx.tenantId, ctx.params.id, ctx.body) }),
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes",
      operationId: "listProcesses",
      access: "tenant",
      tag: "processes",
      summary: "(ext) The sandbox's processes: running ones and recently ended ones with their exit codes",
      params: SandboxParams,
      responses: { 200: { description: "the processes, oldest first", schema: strictObject({ items: Type.Array(ProcessInfoSchema) }) } },
      handler: (ctx) => ({ status: 200, body: { items: processes.list(ctx.tenantId, ctx.params.id) } }),
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes/:pid",
      operationId: "getProcess",
      access: "tenant",
      tag: "processes",
      summary: "(ext) One process: running, or ended with its exit code",
      params: ProcessParams,
      responses: { 200: { description: "the process", schema: ProcessInfoSchema } },
      handler: (ctx) => ({ status: 200, body: processes.get(ctx.tenantId, ctx.params.id, ctx.params.pid) }),
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes/:pid/signal",
      operationId: "signalProcess",
      access: "tenant",
      tag: "processes",
      summary: "(ext) Send a signal to the process's whole process group",
      params: ProcessParams,
      body: strictObject({ signal: Type.Union(SIGNALS.map((s) => Type.Literal(s))) }),
      responses: { 200: { description: "sent", schema: ProcessInfoSchema } },
      handler: async (ctx) => ({ status: 200, body: await processes.signal(ctx.tenantId, ctx.params.id, ctx.params.pid, ctx.body.signal) }),
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes/:pid/resize",
      operationId: "resizeProcess",
      access: "tenant",
      tag: "processes",
      summary: "(ext) Resize the process's terminal (a process started with tty)",
      params: ProcessParams,
      body: strictObject(TtySize),
      responses: { 200: { description: "resized", schema: Ok } },
      handler: async (ctx) => {
        await processes.resize(ctx.tenantId, ctx.params.id, ctx.params.pid, ctx.body);
        return { status: 200, body: { ok: true } };
      },
    }),
    route({
      method: "POST",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes/:pid/stdin",
      operationId: "writeProcessStdin",
      access: "tenant",
      tag: "processes",
      summary: "(ext) Write to the process's stdin, and with eof close it",
      params: ProcessParams,
      body: StdinBody,
      responses: { 200: { description: "handed to stdin", schema: strictObject({ bytes: Type.Integer(), eof: Type.Boolean() }) } },
      handler: async (ctx) => {
        const data = decodeInput(ctx.body);
        await processes.input(ctx.tenantId, ctx.params.id, ctx.params.pid, data, ctx.body.eof ?? false);
        return { status: 200, body: { bytes: data.length, eof: ctx.body.eof ?? false } };
      },
    }),
    route({
      method: "GET",
      path: "/api/tenants/:tenantId/sandboxes/:id/processes/:pid/stream",
      operationId: "streamProcess",
      access: "tenant",
      tag: "processes",
      summary: "(ext) The process's output as NDJSON frames (replayed from ?cursor, then live), then exit and closed",
      params: ProcessParams,
      query: StreamQuery,
      responses: { 200: { description: "NDJSON frames", contentType: "application/x-ndjson", schema: ChannelFrameSchema } },
      handler: async (ctx) => {
        const r = await processes.reader(ctx.tenantId, ctx.params.id, ctx.params.pid);
        const stream = openNdjson(ctx.req, ctx.res, ctx.requestId);
        ctx.handled = true;
        const sink: ProcessSink = {
          send: (ev, flushed) => {
            if (stream.closed) return flushed();
            ctx.res.write(frameText(ev, "kind", "base64") + "\n", () => flushed());
          },
          end: () => stream.end(),
        };
        const out = new ProcessOutput(r.row.id, r.stdio, r.ended, sink, undefined, r.leave);
        stream.onClose(() => out.detach());
        await out.begin(ctx.query.cursor);
      },
    }),
  ];
}

export function processWsRoutes(processes: Processes): WsRouteDef[] {
  return [
    wsRoute({
      path: "/api/tenants/:tenantId/sandboxes/:id/processes/:pid/ws",
      params: ProcessParams,
      query: WsQuery,
      accept: async (ctx) => {
        const tenantId = ctx.authorizeTenant(ctx.params.tenantId);
        const { id: sandboxId, pid } = ctx.params;
        processes.get(tenantId, sandboxId, pid); // not found → refused as HTTP
        const json = ctx.query.framing === "json";
        return (ws: WebSocket) => {
          const sink: ProcessSink = wsEventSink(ws, { json, encoding: "base64" });
          // The reader is taken once the socket is open, so a failed upgrade holds no process alive.
          let out: ProcessOutput | undefined;
          let gone = false;
          const fail = wsControl(ws);
          let inputs = Promise.resolve();
          const queue = (fn: () => Promise<void>) => (inputs = inputs.then(fn).catch(fail));
          ws.on("close", () => {
            gone = true;
            out?.detach();
          });
          ws.on("message", (data: Buffer, isBinary: boolean) => {
            if (isBinary) return queue(() => processes.input(tenantId, sandboxId, pid, data, false));
            let msg: { type?: unknown };
            try {
              msg = JSON.parse(data.toString("utf8")) as { type?: unknown };
            } catch {
              return fail(invalidInput('a text frame must be a JSON control message such as {"type":"resize","cols":80,"rows":24} or {"type":"eof"}'));
            }
            if (msg?.type === "eof") return queue(() => processes.input(tenantId, sandboxId, pid, Buffer.alloc(0), true));
            try {
              const size = validate(ResizeMessage, msg, "body");
              queue(() => processes.resize(tenantId, sandboxId, pid, size));
            } catch (err) {
              fail(err);
            }
          });
          processes.reader(tenantId, sandboxId, pid).then(
            (r) => {
              out = new ProcessOutput(r.row.id, r.stdio, r.ended, sink, undefined, r.leave);
              if (gone) out.detach();
              else void out.begin(ctx.query.cursor);
            },
            (err: { message?: string }) => {
              if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "closed", reason: "error", message: err.message }));
              sink.end();
            },
          );
        };
      },
    }),
  ];
}
