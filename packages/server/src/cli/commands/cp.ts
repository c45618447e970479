/**
 * `nimbus cp SRC DEST`: copy a file into or out of a sandbox through the
 * files channel; one side is `SANDBOX:/abs/path`, the other a local path
 * (`-` for stdin/stdout). The sha256 the server reports is printed.
 */
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { CommandDef } from "../command.js";
import { UsageError } from "../command.js";
import { CONNECTION_OPTIONS, TENANT_OPTION } from "../connect.js";
import { connectTenant, stringValue } from "../values.js";

interface Remote {
  sandboxId: string;
  path: string;
}

function remoteOf(arg: string): Remote | undefined {
  const m = /^([a-z0-9][a-z0-9-]*):(\/.*)$/.exec(arg);
  return m ? { sandboxId: m[1]!, path: m[2]! } : undefined;
}

export const cpCommand: CommandDef = {
  path: ["cp"],
  summary: "Copy a file into or out of a sandbox (SANDBOX:/path on one side)",
  usage: "nimbus cp SRC DEST   (e.g. nimbus cp ./in.csv SANDBOX:/data/in.csv, nimbus cp SANDBOX:/out.json -)",
  options: { ...CONNECTION_OPTIONS, ...TENANT_OPTION, mode: { type: "string", help: "octal permission bits for an upload", default: "644" } },
  positionals: { min: 2, max: 2 },
  async run(args, io) {
    const [src, dest] = args.positionals as [string, string];
    const from = remoteOf(src);
    const to = remoteOf(dest);
    if ((from && to) || (!from && !to)) throw new UsageError("exactly one of SRC and DEST must be SANDBOX:/absolute/path");
    const { client } = connectTenant(args, io);
    if (to) {
      const mode = stringValue(args, "mode");
      if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) throw new UsageError(`--mode must be octal like 644 or 0755, got \`${mode}\``);
      if (src !== "-" && !statSync(src, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`${src} is not a file`);
      const data = src === "-" ? process.stdin : createReadStream(src);
      const r = await client.files.write({ sandboxId: to.sandboxId, path: to.path, data, ...(mode ? { mode: parseInt(mode, 8) } : {}) });
      io.err(`copied ${r.sizeBytes} bytes to ${dest} (sha256 ${r.sha256})`);
      return 0;
    }
    const stream = await client.files.readStream({ sandboxId: from!.sandboxId, path: from!.path });
    await pipeline(stream, dest === "-" ? process.stdout : createWriteStream(dest));
    io.err(`copied ${src} to ${dest === "-" ? "stdout" : dest}`);
    return 0;
  },
};
