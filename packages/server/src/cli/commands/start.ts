/**
 * `nimbus start`: parse the config (flag > NIMBUS_* env > default), start
 * the server, and stop it gracefully on SIGINT/SIGTERM.
 */
import { ConfigError, resolveServerConfig, SERVER_OPTIONS, type OptionSpec } from "../../config.js";
import type { CommandDef, OptionDef } from "../command.js";

const options: Record<string, OptionDef> = Object.fromEntries(
  Object.values(SERVER_OPTIONS as Record<string, OptionSpec>).map((o) => [
    o.flag,
    {
      type: o.kind === "boolean" ? "boolean" : "string",
      multiple: o.kind === "list" ? true : undefined,
      help: o.help,
      default: Array.isArray(o.default) ? undefined : String(o.default),
      env: o.env,
    },
  ]),
);

export const startCommand: CommandDef = {
  path: ["start"],
  summary: "Start the Nimbus server in the foreground",
  usage: "nimbus start [--port 8080] [--host 127.0.0.1] [--data-dir ./data] [options]",
  description:
    "On first boot the admin token is minted at ~/.local/share/nimbus/auth/token ($XDG_DATA_HOME/nimbus/auth/token). Stop with Ctrl-C or SIGTERM; running sandboxes keep running and are re-adopted on the next start.",
  options,
  async run(args, io) {
    const flags: Record<string, string | boolean | string[] | undefined> = {};
    for (const [key, spec] of Object.entries(SERVER_OPTIONS as Record<string, OptionSpec>)) flags[key] = args.values[spec.flag];
    let config;
    try {
      config = resolveServerConfig(flags, io.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`nimbus start: ${err.message}`);
        return 2;
      }
      throw err;
    }
    // Signals are caught from the start: a SIGTERM that lands while the server
    // is still starting stops it cleanly as soon as it is up.
    let stopSignal: string | undefined;
    let onStop: (() => void) | undefined;
    const catchSignal = (signal: string) => () => {
      stopSignal ??= signal;
      onStop?.();
    };
    const onInt = catchSignal("SIGINT");
    const onTerm = catchSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    const release = () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    };
    // Loaded here so other commands do not pay for importing the whole server.
    const { startServer, StartupError } = await import("../../server.js");
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(config, { env: io.env });
    } catch (err) {
      release();
      if (err instanceof StartupError) {
        io.err(`nimbus start: ${err.message}`);
        return 1;
      }
      throw err;
    }
    // A fault in background work must not take every sandbox's server down.
    process.on("unhandledRejection", (reason) => {
      io.err(
        JSON.stringify({
          time: new Date().toISOString(),
          level: "error",
          msg: "unhandled rejection (kept running)",
          err: String((reason as Error)?.stack ?? reason),
        }),
      );
    });
    await new Promise<void>((resolve) => {
      onStop = resolve;
      if (stopSignal) resolve();
    });
    release();
    io.err(`nimbus: ${stopSignal} received, shutting down`);
    return server.close().then(
      () => 0,
      () => 1,
    );
  },
};
