/**
 * Writes overlayfs metadata into an unpacked layer: whiteouts as character
 * devices 0/0 and opaque directories as the `trusted.overlay.opaque=y`
 * xattr. Node has neither mknod nor setxattr, so both are handed to GNU tar
 * (`--xattrs`) in one archive we generate; the paths were already checked by
 * the extractor, and their parents are real directories.
 */
import { spawn } from "node:child_process";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { tarArchive, type TarWriteEntry } from "./tar-writer.js";
import { ImageError } from "./errors.js";

export const OPAQUE_XATTR = "trusted.overlay.opaque";

export async function writeOverlayMetadata(root: string, whiteouts: string[], opaqueDirs: string[]): Promise<void> {
  if (whiteouts.length === 0 && opaqueDirs.length === 0) return;
  const entries: TarWriteEntry[] = whiteouts.map((path) => ({ path, type: "char", mode: 0, devmajor: 0, devminor: 0 }));
  for (const path of opaqueDirs) {
    const st = await lstat(join(root, path));
    entries.push({
      path: path === "" ? "." : path,
      type: "dir",
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtimeMs / 1000,
      xattrs: { [OPAQUE_XATTR]: "y" },
    });
  }
  const archive = tarArchive(entries);
  const args = ["-x", "-p", "--same-owner", "--numeric-owner", "--xattrs", "--xattrs-include=trusted.overlay.*", "-C", root, "-f", "-"];
  await new Promise<void>((resolve, reject) => {
    const child = spawn("tar", args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", (err) => reject(new ImageError("unsupported", "GNU tar is needed to write overlay whiteouts; install the tar package", { cause: err })));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(
          new ImageError(
            "unsupported",
            `could not write overlay whiteouts (tar exited ${code}: ${stderr.trim()}); the data dir must be on a filesystem with trusted xattrs and the server must run as root`,
          ),
        );
    });
    child.stdin.end(archive);
  });
}
