/**
 * `nimbus run [-it] [--rm] IMAGE [CMD…]`, as `docker run` does it: create a
 * sandbox, wait for it, connect this terminal (or these pipes) to its main
 * process from its first byte of output, and exit with the process's exit
 * code; with --rm the sandbox is deleted on the way out. Piped input is
 * forwarded and its end closes the process's stdin. A command that ends
 * before the attachment is made still has its output printed (from the log).
 */
import type { Nimbus } from "@nimbus/nimbus";
import type { CliIo, CommandDef } from "../command.js";
import { TENANT_CONNECTION_OPTIONS, resolveEndpoint } from "../connect.js";
import { reportFailedStart } from "../failed-start.js";
import { standaloneRequest, waitUntilReady } from "../standalone-sandbox.js";
import { connectTenant, parseDuration, stringValue } from "../values.js";
import { pump } from "./attach.js";
import { printLog } from "./sandbox.js";

/** Docker's exit code for "the container could not be run". */
const RUN_FAILED_EXIT = 125;

/** How long a detached `run` waits for an ending process's exit code to be recorded. */
const EXIT_RECORD_WAIT_MS = 3_000;

/** The sandbox's exit code, polled for up to `waitMs`; undefined while it keeps running. */
async function recordedExitCode(client: Nimbus, id: string, waitMs: number): Promise<number | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const code = (await client.sandboxes.get({ id })).status.exitCode;
    if (code !== undefined || Date.now() > deadline) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The output of a process that ended before we attached, and its exit code. */
async function printEnded(client: Nimbus, tenantId: string, id: string): Promise<number> {
  const s = await client.sandboxes.get({ id });
  await printLog(client, tenantId, id);
  return s.status.exitCode ?? RUN_FAILED_EXIT;
}

export const runCommand: CommandDef = {
  path: ["run"],
  summary: "Create a sandbox, attach to its main process and exit with its exit code (like docker run)",
  usage: "nimbus run [-i] [-t] [--rm] [-e K=V]... [--name NAME] IMAGE [CMD [ARG...]]",
  description:
    "Everything after IMAGE is the command (its flags included). Standard input is forwarded to the process; when it ends, the process's stdin is closed. With -t the process gets a terminal and this terminal is put in raw mode (Ctrl-P Ctrl-Q detaches). With --rm the sandbox is deleted when nimbus exits.",
  options: {
    ...TENANT_CONNECTION_OPTIONS,
    interactive: { type: "boolean", short: "i", help: "keep standard input attached (always on; accepted for Docker habits)" },
    tty: { type: "boolean", short: "t", help: "give the process a terminal; needs this side's stdin to be a terminal" },
    rm: { type: "boolean", help: "delete the sandbox when nimbus exits" },
    env: { type: "string", short: "e", multiple: true, help: "environment K=V, or K to pass this shell's value (repeatable)" },
    name: { type: "string", help: "display name; the id starts with its slug", default: "sandbox" },
    label: { type: "string", short: "l", multiple: true, help: "label key=value (repeatable)" },
    workdir: { type: "string", short: "w", help: "working directory of the process", default: "the image's WorkingDir" },
    user: { type: "string", short: "u", help: "user (name or uid[:gid]) of the process", default: "the image's User" },
    timeout: { type: "string", help: "how long to wait for the sandbox to be ready", default: "2m" },
  },
  positionals: { min: 1, max: 1 },
  commandAfter: 1,
  async run(args, io) {
    const tty = args.values.tty === true;
    if (tty && !process.stdin.isTTY) {
      io.err("nimbus run: -t needs a terminal, but standard input is not one; drop -t to use pipes");
      return 2;
    }
    const timeoutMs = parseDuration("timeout", stringValue(args, "timeout") ?? "2m");
    // A terminal ends input in-band (Ctrl-D); pipes need the end of input delivered.
    const request = standaloneRequest(args, io, { profile: "worker", process: tty ? { terminal: true } : { closableStdin: true } });
    const { client, tenantId } = connectTenant(args, io);
    const created = await client.sandboxes.create(request);
    const id = created.metadata.id;
    const remove = () => client.sandboxes.delete({ id }).catch((err: Error) => io.err(`nimbus run: could not delete sandbox ${id}: ${err.message}`));
    // Ctrl-C with pipes (a terminal in raw mode passes it to the process instead): --rm still holds.
    const onSignal = (signal: NodeJS.Signals) => {
      void (args.values.rm ? remove() : Promise.resolve()).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
    try {
      return await attachToRun(io, client, { id, tenantId, timeoutMs, endpoint: resolveEndpoint(io, stringValue(args, "endpoint")) });
    } finally {
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
      if (args.values.rm) await remove();
    }
  },
};

async function attachToRun(io: CliIo, client: Nimbus, o: { id: string; tenantId: string; timeoutMs: number; endpoint: string }): Promise<number> {
  if (!(await waitUntilReady(client, o.id, o.timeoutMs))) {
    const s = await client.sandboxes.get({ id: o.id });
    if (s.status.lifecycleState === "stopped" && s.status.exitCode !== undefined) return printEnded(client, o.tenantId, o.id);
    await reportFailedStart(io, client, "run", o.id);
    return RUN_FAILED_EXIT;
  }
  let sessionId: string;
  try {
    sessionId = (await client.sessions.open({ target: { sandbox: { id: o.id } }, channels: ["stdio"], requestedTtlMs: 3_600_000 })).metadata.id;
  } catch (err) {
    // The process may have ended between `ready` and here.
    if ((err as { code?: unknown }).code !== "op.conflict") throw err;
    return printEnded(client, o.tenantId, o.id);
  }
  try {
    const r = await pump(io, { endpoint: o.endpoint, tenantId: o.tenantId, sessionId, replay: 0, quietMs: 500, inputEnd: "eof" }).catch(() => undefined);
    // The process ended before the channel was connected: its output is in the log.
    if (r === undefined) return await printEnded(client, o.tenantId, o.id);
    if (r.exited) return r.code;
    // Detached, or the session closed as the target stopped: the process's exit code once it is recorded.
    return (await recordedExitCode(client, o.id, EXIT_RECORD_WAIT_MS)) ?? r.code;
  } finally {
    await client.sessions.close({ id: sessionId, reason: "client_detached" }).catch(() => undefined);
  }
}
