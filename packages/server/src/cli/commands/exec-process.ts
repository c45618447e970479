/**
 * `nimbus exec -i`/`-t`: the command runs as an on-demand process (the
 * processes API) and this process's stdio is connected to it over the
 * process's WebSocket, as `docker exec -it` does. With -t it gets a terminal
 * of this terminal's size, resized on SIGWINCH; this side goes raw only when
 * its stdin is a terminal (a pipe is left alone). With -i input is forwarded
 * and its end (Ctrl-D on a cooked terminal, the end of a pipe) closes the
 * process's stdin; on a raw terminal Ctrl-D is a byte for the remote terminal.
 * The process is started without `detach`: when nimbus dies its socket
 * closes and the server kills the process's group.
 */
import type { Nimbus } from "@nimbus/nimbus";
import type { CliIo } from "../command.js";
import { openSocket, type ControlMessage } from "./attach.js";

/** A terminal size when this side has none (a pipe, or script(1) without a size). */
const DEFAULT_COLS = 80;
const DEFAULT_ROWS = 24;

export interface ExecProcessOptions {
  endpoint: string;
  tenantId: string;
  sandboxId: string;
  argv: string[];
  env: string[];
  cwd?: string;
  user?: string;
  timeoutMs?: number;
  stdin: boolean;
  tty: boolean;
}

function terminalSize(): { cols: number; rows: number } {
  return { cols: process.stdout.columns || DEFAULT_COLS, rows: process.stdout.rows || DEFAULT_ROWS };
}

/** Runs the command as a process connected to this stdio; resolves with its exit code. */
export async function execProcess(io: CliIo, client: Nimbus, o: ExecProcessOptions): Promise<number> {
  const started = await client.processes
    .start({
      sandboxId: o.sandboxId,
      argv: o.argv,
      env: o.env,
      stdin: o.stdin,
      ...(o.tty ? { tty: terminalSize() } : {}),
      ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
      ...(o.user !== undefined ? { user: o.user } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    })
    .catch((err: { code?: unknown; message?: unknown }) => {
      if (err?.code !== "op.invalid_input") throw err;
      io.err(`nimbus exec: ${String(err.message)} (${err.code})`);
      return undefined;
    });
  // 127 is what a shell answers for a command it cannot run.
  if (started === undefined) return 127;
  const path = `/api/tenants/${encodeURIComponent(o.tenantId)}/sandboxes/${encodeURIComponent(o.sandboxId)}/processes/${encodeURIComponent(started.id)}/ws`;
  // From cursor 0: output written before the socket opened is replayed, not lost.
  const ws = await openSocket(io, `${o.endpoint.replace(/^http/, "ws")}${path}?cursor=0&framing=json`);
  const stdin = process.stdin;
  const raw = o.tty && o.stdin && stdin.isTTY === true;

  return new Promise<number>((resolve) => {
    let result: number | undefined;
    const onResize = () => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "resize", ...terminalSize() }));
    };
    // Without a raw terminal, Ctrl-C ends nimbus; the process goes with it (not just with the socket).
    const onSignal = (signal: NodeJS.Signals) => {
      void client.processes
        .kill({ sandboxId: o.sandboxId, id: started.id, signal: "SIGKILL" })
        .catch(() => undefined)
        .then(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    const finish = (code: number) => {
      if (result !== undefined) return;
      result = code;
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.removeAllListeners("data");
      process.stdout.off("resize", onResize);
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal).off("SIGHUP", onSignal);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      process.stdout.write("", () => resolve(code));
    };
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return void process.stdout.write(data);
      const m = JSON.parse(data.toString("utf8")) as ControlMessage;
      if (m.type === "stdout" || m.type === "stderr") (m.type === "stdout" ? process.stdout : process.stderr).write(Buffer.from(m.data ?? "", "base64"));
      else if (m.type === "exit") finish(typeof m.code === "number" ? m.code : 1);
      else if (m.type === "gap") io.err(`nimbus exec: output ${m.from}..${m.to} is no longer kept (the log is capped)`);
      else if (m.type === "error") io.err(`nimbus exec: ${m.message} (${m.code})`);
      else if (m.type === "closed" && result === undefined) {
        io.err(`nimbus exec: the process's stream ended (${m.reason}${m.message ? `: ${m.message}` : ""})`);
        finish(1);
      }
    });
    ws.on("close", () => finish(result ?? 1));
    process.on("SIGINT", onSignal).on("SIGTERM", onSignal).on("SIGHUP", onSignal);
    if (o.tty) {
      process.stdout.on("resize", onResize);
      if (raw) stdin.setRawMode(true);
    }
    if (!o.stdin) return;
    stdin.on("data", (chunk: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
    });
    stdin.on("end", () => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "eof" }));
    });
    stdin.resume();
  });
}
