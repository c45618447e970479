/**
 * `nimbus attach SANDBOX`: open a session on the sandbox and connect this
 * terminal to its main process over the stdio WebSocket. On a terminal the
 * input is raw and Ctrl-P Ctrl-Q detaches (the process keeps running); with
 * pipes, input is forwarded until it ends, then nimbus waits for the output to
 * go quiet and detaches. When the process exits, its exit code becomes
 * nimbus's. The session is closed on the way out; the sandbox never is.
 */
import WebSocket from "ws";
import type { CliIo, CommandDef } from "../command.js";
import { TENANT_CONNECTION_OPTIONS, resolveEndpoint } from "../connect.js";
import { adminTokenPath } from "../../host/paths.js";
import { readAdminToken } from "../../host/admin-token.js";
import { connectTenant, parseDuration, stringValue } from "../values.js";
import { UsageError } from "../command.js";

const CTRL_P = 0x10;
const CTRL_Q = 0x11;

/** The same credential the SDK client uses, as request headers for the WebSocket. */
function authHeaders(io: CliIo): Record<string, string> {
  const apiKey = io.env.NIMBUS_API_KEY;
  const token = io.env.NIMBUS_TOKEN ?? io.env.NIMBUS_BEARER_TOKEN ?? (apiKey ? undefined : readAdminToken(adminTokenPath(io.env))?.token);
  if (token) return { authorization: `Bearer ${token}` };
  return apiKey ? { "x-nimbus-api-key": apiKey } : {};
}

/** Splits terminal input at the detach sequence; holds a trailing Ctrl-P until the next key. */
export class DetachKeys {
  private held = false;
  /** Returns the bytes to send and whether the detach sequence was typed. */
  feed(chunk: Buffer): { send: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.held) {
        this.held = false;
        if (b === CTRL_Q) return { send: Buffer.from(out), detach: true };
        out.push(CTRL_P);
        if (b === CTRL_P) {
          this.held = true;
          continue;
        }
        out.push(b);
      } else if (b === CTRL_P) this.held = true;
      else out.push(b);
    }
    return { send: Buffer.from(out), detach: false };
  }
}

export const attachCommand: CommandDef = {
  path: ["attach"],
  summary: "Attach this terminal to a sandbox's main process (stdin, stdout, stderr)",
  usage: "nimbus attach SANDBOX [--replay OFFSET] [--ttl 1h] [--quiet-after 500ms]",
  description:
    "Opens a session with the stdio channel. On a terminal, input is raw and Ctrl-P Ctrl-Q detaches; with pipes, nimbus detaches once its input ended and the output was quiet for --quiet-after (the main process's stdin stays open for later sessions). Exits with the process's exit code when it ends.",
  options: {
    ...TENANT_CONNECTION_OPTIONS,
    replay: { type: "string", help: "first print the output kept since this byte offset (0 = all that is kept)", default: "only new output" },
    ttl: { type: "string", help: "session lease length; the attachment ends when it expires", default: "1h" },
    "quiet-after": { type: "string", help: "with piped input: detach once input ended and output was quiet this long", default: "500ms" },
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const sandboxId = args.positionals[0]!;
    const replayRaw = stringValue(args, "replay");
    const replay = replayRaw === undefined ? undefined : Number(replayRaw);
    if (replay !== undefined && !(Number.isInteger(replay) && replay >= 0)) throw new UsageError("--replay takes a byte offset (an integer, 0 or more)");
    const ttlMs = parseDuration("ttl", stringValue(args, "ttl") ?? "1h");
    const quietMs = parseDuration("quiet-after", stringValue(args, "quiet-after") ?? "500ms");
    const { client, tenantId } = connectTenant(args, io);
    const session = await client.sessions.open({ target: { sandbox: { id: sandboxId } }, channels: ["stdio"], requestedTtlMs: ttlMs });
    const sessionId = session.metadata.id;
    try {
      return (await pump(io, { endpoint: resolveEndpoint(io, stringValue(args, "endpoint")), tenantId, sessionId, replay, quietMs, inputEnd: "detach" })).code;
    } finally {
      await client.sessions.close({ id: sessionId, reason: "client_detached" }).catch(() => undefined);
    }
  },
};

/** A JSON text frame from the server on a stdio or process WebSocket. */
export interface ControlMessage {
  type: string;
  data?: string;
  /** The exit code (`exit`), or the error code (`error`). */
  code?: number | string;
  reason?: string;
  message?: string;
  from?: number;
  to?: number;
}

/** Opens a WebSocket to the server with the CLI's credential; rejects with the server's error envelope when refused. */
export async function openSocket(io: CliIo, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: authHeaders(io), perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        let msg = `HTTP ${res.statusCode}`;
        try {
          const e = JSON.parse(body).error;
          msg = `${e.message} (${e.code})`;
        } catch {
          /* not our envelope */
        }
        reject(new Error(msg));
      });
    });
    ws.once("error", reject);
  });
  return ws;
}

export interface PumpOptions {
  endpoint: string;
  tenantId: string;
  sessionId: string;
  replay: number | undefined;
  quietMs: number;
  /**
   * When piped input ends: `detach` once output is quiet (attach: the process
   * keeps its stdin for later sessions), or `eof`: close the process's stdin and
   * wait for it to exit (run).
   */
  inputEnd: "detach" | "eof";
}

/** How an attachment ended: the code to exit with, and whether the process exited or we detached. */
export interface PumpResult {
  code: number;
  exited: boolean;
  detached: boolean;
}

/** Connects this process's stdio to the session's stdio channel; rejects when the channel cannot be opened. */
export async function pump(io: CliIo, o: PumpOptions): Promise<PumpResult> {
  const stdin = process.stdin;
  const tty = Boolean(stdin.isTTY && process.stdout.isTTY);
  const query = new URLSearchParams({ tenantId: o.tenantId, framing: "json", encoding: "base64" });
  if (o.replay !== undefined) query.set("cursor", String(o.replay));
  const url = `${o.endpoint.replace(/^http/, "ws")}/api/sessions/${encodeURIComponent(o.sessionId)}/channels/stdio?${query}`;
  const ws = await openSocket(io, url);

  return new Promise<PumpResult>((resolve) => {
    let result: number | undefined;
    let exited = false;
    let detached = false;
    let quietTimer: NodeJS.Timeout | undefined;
    let inputEnded = false;
    let inputEnd = o.inputEnd;
    const finish = (code: number) => {
      if (result !== undefined) return;
      result = code;
      clearTimeout(quietTimer);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdin.removeAllListeners("data");
      process.stdout.off("resize", onResize);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      // Let stdout drain before the command returns.
      process.stdout.write("", () => resolve({ code, exited, detached }));
    };
    const armQuiet = () => {
      if (!inputEnded || inputEnd === "eof") return;
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => {
        detached = true;
        finish(0);
      }, o.quietMs);
    };
    const onResize = () => {
      // A terminal of unknown size (script(1) without a terminal of its own) reports 0.
      if (!process.stdout.columns || !process.stdout.rows) return;
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "resize", cols: process.stdout.columns, rows: process.stdout.rows }));
    };

    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        process.stdout.write(data);
        return armQuiet();
      }
      const m = JSON.parse(data.toString("utf8")) as ControlMessage;
      if (m.type === "stdout" || m.type === "stderr") {
        (m.type === "stdout" ? process.stdout : process.stderr).write(Buffer.from(m.data ?? "", "base64"));
        armQuiet();
      } else if (m.type === "exit") {
        exited = result === undefined;
        finish(typeof m.code === "number" ? m.code : 1);
      } else if (m.type === "gap") io.err(`nimbus attach: output ${m.from}..${m.to} is no longer kept (the log is capped)`);
      else if (m.type === "closed") {
        if (result === undefined) io.err(`nimbus attach: the session ended (${m.reason})`);
        finish(1);
      } else if (m.type === "error") io.err(`nimbus attach: ${m.message} (${m.code})`);
      else if (m.type === "notice") {
        io.err(`nimbus: ${m.message}`);
        // This server keeps the process's stdin open: waiting for the exit could be forever.
        if (inputEnded && inputEnd === "eof") {
          io.err("nimbus: detaching once the output is quiet; the process keeps running");
          inputEnd = "detach";
          armQuiet();
        }
      }
    });
    ws.on("close", () => finish(result ?? 1));

    if (tty) {
      stdin.setRawMode(true);
      io.err("attached; detach with Ctrl-P Ctrl-Q");
      onResize();
      process.stdout.on("resize", onResize);
    }
    const keys = new DetachKeys();
    stdin.on("data", (chunk: Buffer) => {
      if (!tty) return void ws.send(chunk);
      const { send, detach } = keys.feed(chunk);
      if (send.length) ws.send(send);
      if (detach) {
        process.stdout.write("\r\n");
        io.err("detached; the process keeps running");
        detached = true;
        finish(0);
      }
    });
    stdin.on("end", () => {
      inputEnded = true;
      if (inputEnd === "eof" && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "eof" }));
      armQuiet();
    });
    stdin.resume();
  });
}
