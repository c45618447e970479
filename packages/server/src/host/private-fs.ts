/**
 * Private modes for everything the server keeps under its data dir (issue 15,
 * finding 2): directories 0700, files 0600, owned by the server's user. The
 * data dir holds extracted image layers (setuid-root binaries among them) and
 * a database with every sandbox's env, so no other local user may traverse
 * it. The top-level 0700 is what closes traversal for everything below; the
 * creation paths use these helpers too so that a dir moved or copied
 * elsewhere stays private. Imports only node:fs, so store/, images/ and
 * runtime/ may use it without depending on anything else of the server.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p with 0700 on every directory it creates, and 0700 on `dir` even when it already existed looser. */
export function ensurePrivateDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(dir, statSync(dir), PRIVATE_DIR_MODE);
}

/** ensurePrivateDirSync, off the event loop. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(dir, statSync(dir), PRIVATE_DIR_MODE);
}

/** chmod 0600 when the file exists and grants anything to group or others; a missing file is fine. */
export function tightenFileSync(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (st.isFile()) tighten(path, st, PRIVATE_FILE_MODE);
}

function tighten(path: string, st: Stats, mode: number): void {
  // Keep the owner's bits and drop setuid/setgid/sticky and every group/other bit.
  if ((st.mode & 0o7077) !== 0 || (st.mode & 0o700) !== (mode & 0o700)) chmodSync(path, mode);
}

export class DataDirOwnerError extends Error {}

export interface SecureReport {
  /** Paths whose mode was tightened. */
  repaired: string[];
}

/**
 * At start: the data dir must belong to this process's user; then the dir,
 * its direct children and the children of `deepen` entries (e.g. `images`,
 * `runtime`) are tightened: directories 0700, regular files 0600. It does not
 * walk further (millions of layer files): the 0700 above them is the barrier,
 * and the creation paths make new entries private.
 */
export function secureDataDir(dataDir: string, deepen: readonly string[] = []): SecureReport {
  const uid = process.geteuid?.() ?? 0;
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const top = statSync(dataDir);
  if (!top.isDirectory()) throw new DataDirOwnerError(`data dir ${dataDir} is not a directory; choose another with --data-dir`);
  if (top.uid !== uid) {
    throw new DataDirOwnerError(
      `data dir ${dataDir} is owned by uid ${top.uid}, not by this server's user (uid ${uid}); another user could change what the server reads. ` +
        `If the files are yours, run \`chown -R ${uid}:${process.getegid?.() ?? 0} ${dataDir}\` and start again, or choose another --data-dir`,
    );
  }
  const repaired: string[] = [];
  const fix = (path: string, st: Stats) => {
    if (st.isSymbolicLink()) return; // never chmod through a link
    const mode = st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((st.mode & 0o7077) === 0) return;
    if (!st.isDirectory() && !st.isFile()) return; // sockets, FIFOs: protected by the 0700 dirs above them
    chmodSync(path, mode);
    repaired.push(path);
  };
  fix(dataDir, top);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    const st = lstatSync(path);
    if (st.uid !== uid) {
      throw new DataDirOwnerError(
        `${path} is owned by uid ${st.uid}, not by this server's user (uid ${uid}); run \`chown -R ${uid}:${process.getegid?.() ?? 0} ${dataDir}\` and start again`,
      );
    }
    fix(path, st);
    if (st.isDirectory() && deepen.includes(name)) {
      for (const child of readdirSync(path)) {
        const cp = join(path, child);
        fix(cp, lstatSync(cp));
      }
    }
  }
  return { repaired };
}
