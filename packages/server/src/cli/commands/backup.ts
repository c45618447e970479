/**
 * `nimbus backup <file>` and `nimbus restore <file>`: host-local operations on
 * the data dir's database, so they open it through store/ rather than talking
 * to a server. Backup works while the server runs (SQLite backup API, WAL);
 * restore refuses while a server holds the data dir, checks the file first and
 * keeps the old database aside.
 */
import { resolve } from "node:path";
import type { CliIo, CommandDef, OptionDef } from "../command.js";
import { SERVER_OPTIONS } from "../../config.js";

const dataDirOption: Record<string, OptionDef> = {
  "data-dir": { type: "string", help: "the server's data dir", default: String(SERVER_OPTIONS.dataDir.default), env: SERVER_OPTIONS.dataDir.env },
};

function dataDirOf(values: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  const v = values["data-dir"];
  return resolve(typeof v === "string" && v !== "" ? v : env[SERVER_OPTIONS.dataDir.env] || String(SERVER_OPTIONS.dataDir.default));
}

/** Runs `work` and exits 0; a BackupError (a bad file, an unusable data dir) is said on one line and exits 1. */
async function exitOnBackupError(io: CliIo, command: string, work: () => unknown): Promise<number> {
  const { BackupError } = await import("../../store/backup.js");
  try {
    await work();
    return 0;
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    io.err(`nimbus ${command}: ${err.message}`);
    return 1;
  }
}

export const backupCommand: CommandDef = {
  path: ["backup"],
  summary: "Copy the server's database to a file (works while the server runs)",
  usage: "nimbus backup <file> [--data-dir ./data]",
  description:
    "Writes a consistent copy of <data-dir>/nimbus.db (tenants, API key digests, sandboxes, sessions, services) to <file>, mode 0600, through SQLite's online backup API, and checks the copy with quick_check. Images and sandbox files are not included. The file holds every sandbox's env: keep it private.",
  options: dataDirOption,
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const { backupDatabase } = await import("../../store/backup.js");
    return exitOnBackupError(io, "backup", async () => {
      const r = await backupDatabase(dataDirOf(args.values, io.env), args.positionals[0]!);
      io.out(`backed up the database to ${r.path} (schema ${r.schemaVersion})`);
    });
  },
};

export const restoreCommand: CommandDef = {
  path: ["restore"],
  summary: "Replace the server's database with a backup (the server must be stopped)",
  usage: "nimbus restore <file> [--data-dir ./data]",
  description:
    "Checks <file> (quick_check, a Nimbus schema no newer than this version), moves the current nimbus.db and its -wal/-shm aside as nimbus.db.before-restore-<time>, and puts the backup in place. Refuses while a server runs on the data dir. At the next start, sandboxes recorded as running whose containers are gone are marked lost, and containers made after the backup (no record) are removed.",
  options: dataDirOption,
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const dataDir = dataDirOf(args.values, io.env);
    const [{ restoreDatabase }, { lockDataDir, DataDirLockedError }, { ensurePrivateDirSync }] = await Promise.all([
      import("../../store/backup.js"),
      import("../../host/data-dir-lock.js"),
      import("../../host/private-fs.js"),
    ]);
    let unlock: () => void;
    try {
      ensurePrivateDirSync(dataDir);
      unlock = lockDataDir(dataDir);
    } catch (err) {
      if (err instanceof DataDirLockedError) {
        io.err(`nimbus restore: ${err.message.replace("stop it first", "stop it before restoring")}`);
        return 1;
      }
      io.err(`nimbus restore: cannot use data dir ${dataDir}: ${(err as Error).message}`);
      return 1;
    }
    try {
      return await exitOnBackupError(io, "restore", () => {
        const r = restoreDatabase(dataDir, args.positionals[0]!);
        io.out(`restored the database in ${dataDir} (schema ${r.schemaVersion})`);
        if (r.keptAside.length > 0) io.out(`the previous database was kept as ${r.keptAside.join(", ")}`);
        io.out("start the server to reconcile sandboxes with the restored records");
      });
    } finally {
      unlock();
    }
  },
};
