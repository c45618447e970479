/**
 * `nimbus exec SANDBOX -- CMD…`: run a command in a ready sandbox through the
 * exec channel, stream its output as it comes, and exit with its exit code.
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
  usage: "nimbus exec SANDBOX [--env K=V]... [--workdir DIR] [--user UID[:GID]] [--stdin] -- CMD [ARG...]",
  description: "Output streams as the command runs. With --stdin, this process's standard input (up to 700 KiB) is passed to the command.",
  options: {
    ...CONNECTION_OPTIONS,
    ...TENANT_OPTION,
    env: { type: "string", short: "e", multiple: true, help: "environment variable K=V (repeatable)" },
    workdir: { type: "string", short: "w", help: "working directory inside the sandbox", default: "/" },
    user: { type: "string", short: "u", help: "numeric uid[:gid] to run as", default: "0:0" },
    stdin: { type: "boolean", short: "i", help: "pass this process's standard input to the command" },
    timeout: { type: "string", help: "kill the command after this long (e.g. 30s, 5m)", default: "5m" },
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    if (args.rest.length === 0) throw new UsageError("give the command after `--`, e.g. nimbus exec ID -- ls -l /");
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
