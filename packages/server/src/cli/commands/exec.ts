/**
 * `nimbus exec SANDBOX CMD…` (or `-- CMD…`): run a command in a ready sandbox
 * through the exec channel, stream its output as it comes, and exit with its
 * exit code. The exec channel has no terminal, so `-t` is refused with a way
 * to get one (`nimbus run -it`, `nimbus attach`).
 */
import { readFileSync } from "node:fs";
import type { CommandDef } from "../command.js";
import { UsageError } from "../command.js";
import { CONNECTION_OPTIONS, TENANT_OPTION } from "../connect.js";
import { connectTenant, listValue, parseDuration, stringValue } from "../values.js";

/** The exec request carries stdin inline, base64 inside a 1 MiB JSON body. */
const MAX_STDIN_BYTES = 700 * 1024;

export const execCommand: CommandDef = {
  path: ["exec"],
  summary: "Run a command in a sandbox; its exit code becomes nimbus's",
  usage: "nimbus exec [-i] SANDBOX [--env K=V]... [--workdir DIR] [--user UID[:GID]] CMD [ARG...]",
  description:
    "Everything after SANDBOX is the command (its flags included; `--` before it works too). Output streams as the command runs. With -i (--stdin), this process's standard input (up to 700 KiB) is passed to the command once it ends.",
  options: {
    ...CONNECTION_OPTIONS,
    ...TENANT_OPTION,
    env: { type: "string", short: "e", multiple: true, help: "environment variable K=V (repeatable)" },
    workdir: { type: "string", short: "w", help: "working directory inside the sandbox", default: "/" },
    user: { type: "string", short: "u", help: "numeric uid[:gid] to run as", default: "0:0" },
    stdin: { type: "boolean", short: "i", help: "pass this process's standard input to the command" },
    tty: { type: "boolean", short: "t", help: "a terminal for the command: not available on the exec channel yet (see the description)" },
    timeout: { type: "string", help: "kill the command after this long (e.g. 30s, 5m)", default: "5m" },
  },
  positionals: { min: 1, max: 1 },
  commandAfter: 1,
  async run(args, io) {
    if (args.rest.length === 0) throw new UsageError("give the command after the sandbox id, e.g. nimbus exec ID ls -l /");
    if (args.values.tty) {
      io.err(
        "nimbus exec: -t: the exec channel has no terminal yet (that comes with the processes API); for an interactive shell use `nimbus run -it IMAGE sh`, or `nimbus attach ID` to a sandbox created with a terminal; without -t, `nimbus exec -i ID CMD` passes piped input. (If you meant the tenant: that flag is now --tenant/-T.)",
      );
      return 2;
    }
    const { client } = connectTenant(args, io);
    const timeout = stringValue(args, "timeout");
    let stdin: Buffer | undefined;
    if (args.values.stdin) {
      stdin = readFileSync(0);
      if (stdin.length > MAX_STDIN_BYTES) throw new UsageError(`--stdin takes at most ${MAX_STDIN_BYTES} bytes; copy larger inputs with \`nimbus cp\``);
    }
    const frames = client.sandboxes.execStream({
      id: args.positionals[0]!,
      argv: args.rest,
      env: listValue(args, "env"),
      ...(stringValue(args, "workdir") ? { cwd: stringValue(args, "workdir")! } : {}),
      ...(stringValue(args, "user") ? { user: stringValue(args, "user")! } : {}),
      ...(stdin ? { stdin } : {}),
      ...(timeout ? { timeoutMs: parseDuration("timeout", timeout) } : {}),
    });
    for await (const f of frames) {
      if (f.kind === "stdout") process.stdout.write(Buffer.from(f.data, "base64"));
      else if (f.kind === "stderr") process.stderr.write(Buffer.from(f.data, "base64"));
      else if (f.kind === "exit") return f.code ?? 1;
      else if (f.kind === "error") {
        io.err(`nimbus exec: ${f.error.message} (${f.error.code})`);
        // 127 is what a shell answers for a command it cannot run.
        return f.error.code === "op.invalid_input" ? 127 : 1;
      }
    }
    io.err("nimbus exec: the stream ended without an exit code");
    return 1;
  },
};
