/**
 * `nimbus exec [-it] SANDBOX CMD…` (or `-- CMD…`): run a command in a ready
 * sandbox, stream its output as it comes, and exit with its exit code. Without
 * -i/-t it is one request on the exec channel; with -i or -t it runs as an
 * on-demand process connected to this stdio (exec-process.ts).
 */
import type { CommandDef } from "../command.js";
import { UsageError } from "../command.js";
import { TENANT_CONNECTION_OPTIONS, resolveEndpoint } from "../connect.js";
import { connectTenant, listValue, parseDuration, stringValue } from "../values.js";
import { execProcess } from "./exec-process.js";

export const execCommand: CommandDef = {
  path: ["exec"],
  summary: "Run a command in a sandbox; its exit code becomes nimbus's",
  usage: "nimbus exec [-i] [-t] SANDBOX [--env K=V]... [--workdir DIR] [--user UID[:GID]] CMD [ARG...]",
  description:
    "Everything after SANDBOX is the command (its flags included; `--` before it works too). Output streams as the command runs. With -i (--stdin), standard input is forwarded as it comes and its end closes the command's stdin. With -t (--tty) the command gets a terminal of this terminal's size (resized with it); this terminal is put in raw mode only when it is one. With -i or -t the command is killed when nimbus dies.",
  options: {
    ...TENANT_CONNECTION_OPTIONS,
    env: { type: "string", short: "e", multiple: true, help: "environment variable K=V (repeatable)" },
    workdir: { type: "string", short: "w", help: "working directory inside the sandbox", default: "/" },
    user: { type: "string", short: "u", help: "numeric uid[:gid] to run as", default: "0:0" },
    stdin: { type: "boolean", short: "i", help: "forward standard input to the command (its end closes the command's stdin)" },
    tty: { type: "boolean", short: "t", help: "give the command a terminal" },
    timeout: { type: "string", help: "kill the command after this long (e.g. 30s, 5m)", default: "5m without -i/-t, none with them" },
  },
  positionals: { min: 1, max: 1 },
  commandAfter: 1,
  async run(args, io) {
    if (args.rest.length === 0) throw new UsageError("give the command after the sandbox id, e.g. nimbus exec ID ls -l /");
    const { client, tenantId } = connectTenant(args, io);
    const timeout = stringValue(args, "timeout");
    if (args.values.stdin || args.values.tty) {
      return execProcess(io, client, {
        endpoint: resolveEndpoint(io, stringValue(args, "endpoint")),
        tenantId,
        sandboxId: args.positionals[0]!,
        argv: args.rest,
        env: listValue(args, "env"),
        cwd: stringValue(args, "workdir"),
        user: stringValue(args, "user"),
        ...(timeout ? { timeoutMs: parseDuration("timeout", timeout) } : {}),
        stdin: args.values.stdin === true,
        tty: args.values.tty === true,
      });
    }
    const frames = client.sandboxes.execStream({
      id: args.positionals[0]!,
      argv: args.rest,
      env: listValue(args, "env"),
      ...(stringValue(args, "workdir") ? { cwd: stringValue(args, "workdir")! } : {}),
      ...(stringValue(args, "user") ? { user: stringValue(args, "user")! } : {}),
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
