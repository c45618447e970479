/**
 * `nimbus machine …`: on macOS/Windows the original product manages a Linux
 * VM here. Nimbus runs sandboxes natively on Linux, so there is nothing to
 * manage; on other systems we say plainly that a Linux host is needed.
 */
import { platform } from "node:os";
import type { CommandDef } from "../command.js";

export const machineCommand: CommandDef = {
  path: ["machine"],
  summary: "Explain where sandboxes run (no VM is needed on Linux)",
  usage: "nimbus machine [init|start|stop|status|…]",
  options: {},
  positionals: { min: 0, max: 8 },
  async run(_args, io) {
    if (platform() === "linux") {
      io.out("Sandboxes run natively on this Linux host (OCI containers under crun + conmon); no machine VM is needed or managed.");
      return 0;
    }
    io.err(
      `Sandboxes need a Linux host; this is ${platform()}. nimbus does not manage a Linux VM yet: run the server on a Linux machine (or a Linux VM you manage) and point NIMBUS_ENDPOINT at it.`,
    );
    return 1;
  },
};
