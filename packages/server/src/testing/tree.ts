/**
 * Describes a directory tree file by file (type, mode incl. setuid bits,
 * uid/gid, size, content hash or link target, mtime in seconds, hard-link
 * groups) so tests can assert that an unpacked layer equals its source.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export function describeTree(root: string, opts: { mtime?: boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const firstPathOfInode = new Map<number, string>();
  const walk = (rel: string) => {
    const abs = rel === "" ? root : join(root, rel);
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    const mtime = opts.mtime === false ? "" : ` mtime=${Math.floor(st.mtimeMs / 1000)}`;
    let what: string;
    if (st.isSymbolicLink()) what = `symlink -> ${readlinkSync(abs)}`;
    else if (st.isDirectory()) what = `dir ${mode}`;
    else if (st.isFile()) {
      const first = firstPathOfInode.get(st.ino);
      if (first !== undefined) what = `hardlink of ${first}`;
      else {
        firstPathOfInode.set(st.ino, rel);
        what = `file ${mode} ${st.size} ${createHash("sha256").update(readFileSync(abs)).digest("hex").slice(0, 16)}`;
      }
    } else if (st.isCharacterDevice()) what = `char ${st.rdev}`;
    else what = `other ${mode}`;
    out.set(rel || ".", `${what} ${st.uid}:${st.gid}${st.isSymbolicLink() ? "" : mtime}`);
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(rel === "" ? name : `${rel}/${name}`);
  };
  walk("");
  return out;
}

/** Lists the differences between two descriptions (empty when equal). */
export function diffTrees(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [p, d] of a) if (b.get(p) !== d) diffs.push(`${p}: ${d} != ${b.get(p) ?? "(missing)"}`);
  for (const p of b.keys()) if (!a.has(p)) diffs.push(`${p}: (missing) != ${b.get(p)}`);
  return diffs;
}
