/**
 * `nimbus cp SRC DEST`: copy a file into or out of a sandbox through the
 * files channel; one side is `SANDBOX:/abs/path`, the other a local path
 * (`-` for stdin/stdout). The sha256 the server reports is printed.
 * `-r` copies a directory's contents as a tar stream (files/archive): the
 * local side is packed or unpacked by the host's GNU tar, which refuses
 * absolute and `..` names and never writes through the archive's symlinks.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Nimbus } from "@nimbus/nimbus";
import type { CommandDef } from "../command.js";
import { UsageError } from "../command.js";
import { TENANT_CONNECTION_OPTIONS } from "../connect.js";
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
  usage:
    "nimbus cp [-r] SRC DEST   (e.g. nimbus cp ./in.csv SANDBOX:/data/in.csv, nimbus cp SANDBOX:/out.json -, nimbus cp -r ./app SANDBOX:/app, nimbus cp -r SANDBOX:/out ./out)",
  options: {
    ...TENANT_CONNECTION_OPTIONS,
    mode: { type: "string", help: "octal permission bits for an upload", default: "644" },
    recursive: { type: "boolean", short: "r", help: "copy a directory's contents (into DEST, created if missing) as a tar stream; needs tar on PATH" },
  },
  positionals: { min: 2, max: 2 },
  async run(args, io) {
    const [src, dest] = args.positionals as [string, string];
    const from = remoteOf(src);
    const to = remoteOf(dest);
    if ((from && to) || (!from && !to)) throw new UsageError("exactly one of SRC and DEST must be SANDBOX:/absolute/path");
    const { client } = connectTenant(args, io);
    if (args.values.recursive === true) {
      if (src === "-" || dest === "-") throw new UsageError("-r copies directories; `-` (stdin/stdout) is for single files");
      if (to) {
        if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${src} is not a directory`);
        const r = await uploadDir(client, src, to);
        io.err(`copied ${r.entries} entries (${r.sizeBytes} bytes) to ${dest}`);
      } else {
        await downloadDir(client, from!, dest);
        io.err(`copied ${src} to ${dest}`);
      }
      return 0;
    }
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

/** Runs the host's tar; resolves when it exits 0, rejects with its stderr otherwise. */
function tar(args: string[], stdio: ["pipe", "ignore", "pipe"] | ["ignore", "ignore", "pipe"]) {
  const child = spawn("tar", args, { stdio });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (err: NodeJS.ErrnoException) => reject(err.code === "ENOENT" ? new Error("nimbus cp -r needs tar on PATH (apt-get install tar)") : err));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`))));
  });
  return { child, done };
}

async function uploadDir(client: Nimbus, dir: string, to: Remote) {
  // Packed to a private temp file first: a child's stdout pipe handed to fetch as the body arrived empty.
  const tmp = mkdtempSync(join(tmpdir(), "nimbus-cp-"));
  try {
    const archive = join(tmp, "upload.tar");
    await tar(["-C", dir, "-cf", archive, "."], ["ignore", "ignore", "pipe"]).done;
    return await client.files.uploadArchive({ sandboxId: to.sandboxId, path: to.path, data: createReadStream(archive) });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function downloadDir(client: Nimbus, from: Remote, dest: string) {
  const stream = await client.files.downloadArchive({ sandboxId: from.sandboxId, path: from.path });
  mkdirSync(dest, { recursive: true });
  // Never restore the sandbox's owners or setuid bits on this machine.
  const { child, done } = tar(["-C", dest, "-xf", "-", "--no-same-owner", "--no-same-permissions"], ["pipe", "ignore", "pipe"]);
  await Promise.all([pipeline(stream, child.stdin!), done]);
}
