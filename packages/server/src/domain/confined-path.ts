/**
 * Resolving a sandbox path on the host without ever leaving the sandbox
 * root: each component is looked at with lstat, symlinks are followed by
 * hand with absolute targets re-rooted at the sandbox root and `..` clamped
 * there (the semantics of openat2's RESOLVE_IN_ROOT, which Node lacks). After
 * opening, the descriptor's real path is checked again, so a component
 * swapped for a symlink between the walk and the open is caught too.
 */
import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { readlink } from "node:fs/promises";
import { join } from "node:path";
import { AppError, invalidInput } from "./errors.js";

const MAX_SYMLINKS = 40;

export function assertSandboxPath(path: string): void {
  if (!path.startsWith("/") || path.includes("\0") || path.length > 4096) {
    throw invalidInput("`path` must be an absolute path inside the sandbox (e.g. /tmp/file), without NUL bytes", { field: "path" });
  }
}

/**
 * The host path of `path` inside `root`, with every symlink resolved inside
 * the root. With `followLast: false` a final symlink is returned as itself.
 */
export function resolveInRoot(root: string, path: string, followLast = true): string {
  assertSandboxPath(path);
  const realRoot = realpathSync(root);
  const pending = path.split("/").filter((c) => c !== "" && c !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(realRoot, ...resolved, part);
    let st;
    try {
      st = lstatSync(candidate);
    } catch {
      // Missing: the rest is taken literally (for creating files).
      resolved.push(part, ...pending.filter((p) => p !== "." ));
      break;
    }
    if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++links > MAX_SYMLINKS) throw invalidInput(`too many symbolic links while resolving ${path}`, { field: "path" });
      const target = readlinkSync(candidate);
      if (target.startsWith("/")) resolved.length = 0;
      pending.unshift(...target.split("/").filter((c) => c !== "" && c !== "."));
      continue;
    }
    resolved.push(part);
  }
  // A literal tail could still contain `..`; clamp it the same way.
  const clean: string[] = [];
  for (const p of resolved) {
    if (p === "..") clean.pop();
    else clean.push(p);
  }
  return join(realRoot, ...clean);
}

/** Throws unless the open descriptor really lies inside `root` (race check after open). */
export async function assertFdInRoot(fd: number, root: string, path: string): Promise<void> {
  const real = await readlink(`/proc/self/fd/${fd}`);
  const realRoot = realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + "/")) {
    throw new AppError("op.invalid_input", `${path} resolves outside the sandbox root; refusing to touch it`, { detail: { field: "path" } });
  }
}
