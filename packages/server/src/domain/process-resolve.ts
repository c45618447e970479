/**
 * Turning an image config plus the caller's process fields into the exact
 * process to run, by the OCI/Docker rules the contract names:
 * - `argv` (alias `args`) replaces ENTRYPOINT+CMD entirely;
 * - else `entrypoint` replaces the image's ENTRYPOINT (and drops its CMD,
 *   as `docker run --entrypoint` does) and `command` replaces CMD;
 * - `env` is merged over the image's Env by variable name;
 * - `cwd` defaults to WorkingDir, `user` to the image's User, then root.
 * User and group names are looked up in the image's own /etc/passwd and
 * /etc/group (top-most layer that has the file wins), read confined to the
 * layer (readImageFile).
 */
import { closeSync, readSync } from "node:fs";
import { ConfinedRoot } from "../runtime/confined-root.js";
import { AppError, invalidInput } from "./errors.js";
import { looksNumeric, parseId } from "./user-ids.js";
import type { ProcessSpec } from "./sandbox-spec.js";
import type { ImageConfig } from "../images/index.js";

/** What of the image's config a process starts from. */
export type ImageProcessDefaults = Pick<ImageConfig, "entrypoint" | "cmd" | "env" | "workingDir" | "user">;

export interface ResolvedProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  terminal: boolean;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The environment of a command run in a sandbox (exec, processes): the
 * defaults, then the main process's environment (the image's and the spec's,
 * as `docker exec` inherits it), then what the caller asked for.
 */
export function commandEnv(defaults: string[], sandboxEnv: string[] | undefined, asked: string[]): string[] {
  return mergeEnv(mergeEnv(defaults, sandboxEnv ?? []), asked);
}

export function mergeEnv(base: string[], over: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...over]) {
    const eq = e.indexOf("=");
    out.set(eq === -1 ? e : e.slice(0, eq), e);
  }
  return [...out.values()];
}

export function resolveArgs(image: ImageProcessDefaults, p: ProcessSpec): string[] {
  const argv = p.argv ?? p.args;
  if (argv) return argv;
  const entrypoint = p.entrypoint ?? image.entrypoint ?? [];
  const cmd = p.command ?? (p.entrypoint ? [] : (image.cmd ?? []));
  return [...entrypoint, ...cmd];
}

/** Larger account files are refused: they are read on the launch path, on the event loop. */
export const IMAGE_FILE_LIMIT_BYTES = 1024 * 1024;

/**
 * An account file of the image (etc/passwd, etc/group): the top-most layer
 * that has it wins. The layers are hostile input: each is searched as its
 * own root (openat2 RESOLVE_IN_ROOT, so `/etc/passwd -> /host/file` stays in
 * the layer), and only a regular file is opened (an O_PATH fstat first, so a
 * FIFO or device never is; O_NONBLOCK), read only up to 1 MiB. A symlink
 * whose target lives in another layer is not followed across layers.
 */
function readImageFile(layerDirs: string[], path: string): string | undefined {
  for (let i = layerDirs.length - 1; i >= 0; i--) {
    let root: ConfinedRoot;
    try {
      root = ConfinedRoot.open(layerDirs[i]!);
    } catch {
      continue; /* a layer dir that vanished: as if it had no such file */
    }
    try {
      let opened;
      try {
        opened = root.openRegularSync(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") continue;
        throw invalidInput(`the image's /${path} cannot be resolved inside the image (${code}); fix the image or use a numeric uid[:gid]`, {
          field: "spec.process.user",
        });
      }
      if (opened.fd < 0) {
        // A whiteout (0/0 character device) deletes the file of the layers below.
        if (opened.type === "char-device" && opened.rdev === 0) return undefined;
        throw invalidInput(`the image's /${path} is a ${opened.type}, not a regular file; fix the image or use a numeric uid[:gid]`, {
          field: "spec.process.user",
        });
      }
      try {
        if (opened.sizeBytes > IMAGE_FILE_LIMIT_BYTES) {
          throw new AppError(
            "op.too_large",
            `the image's /${path} is ${opened.sizeBytes} bytes, over the ${IMAGE_FILE_LIMIT_BYTES}-byte limit for account files; use a numeric uid[:gid]`,
            {
              detail: { field: "spec.process.user", limitBytes: IMAGE_FILE_LIMIT_BYTES },
            },
          );
        }
        // One byte more than fstat said, to notice a file that grew past the limit meanwhile.
        const buffer = Buffer.allocUnsafe(Math.min(opened.sizeBytes, IMAGE_FILE_LIMIT_BYTES) + 1);
        let length = 0;
        for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(opened.fd, buffer, length, buffer.length - length, length);
        if (length > Math.min(opened.sizeBytes, IMAGE_FILE_LIMIT_BYTES))
          throw invalidInput(`the image's /${path} changed while it was read; try again`, { field: "spec.process.user" });
        return buffer.toString("utf8", 0, length);
      } finally {
        closeSync(opened.fd);
      }
    } finally {
      root.close();
    }
  }
  return undefined;
}

function lookup(file: string | undefined, name: string, field: number): string[] | undefined {
  for (const line of (file ?? "").split("\n")) {
    const parts = line.split(":");
    if (parts[0] === name && parts.length > field) return parts;
  }
  return undefined;
}

export function resolveUser(spec: string, layerDirs: string[]): { uid: number; gid: number } {
  const [userPart = "", groupPart] = spec.split(":");
  const passwd = () => readImageFile(layerDirs, "etc/passwd");
  let uid: number;
  let gid: number | undefined;
  // The spec's user was range-checked at the API; the image's User was not, so check again here.
  if (looksNumeric(userPart)) {
    uid = parseId(userPart, "spec.process.user", "uid");
    const entry = (passwd() ?? "")
      .split("\n")
      .map((l) => l.split(":"))
      .find((p) => p[2] === userPart);
    if (entry && entry[3] !== undefined) gid = parseId(entry[3], "spec.process.user", "gid");
  } else {
    const entry = lookup(passwd(), userPart, 3);
    if (!entry) throw invalidInput(`user \`${userPart}\` does not exist in the image's /etc/passwd; use a numeric uid[:gid]`, { field: "spec.process.user" });
    uid = parseId(entry[2] ?? "", "spec.process.user", "uid");
    gid = parseId(entry[3] ?? "", "spec.process.user", "gid");
  }
  if (groupPart !== undefined && groupPart !== "") {
    if (looksNumeric(groupPart)) gid = parseId(groupPart, "spec.process.user", "gid");
    else {
      const entry = lookup(readImageFile(layerDirs, "etc/group"), groupPart, 2);
      if (!entry) throw invalidInput(`group \`${groupPart}\` does not exist in the image's /etc/group`, { field: "spec.process.user" });
      gid = parseId(entry[2] ?? "", "spec.process.user", "gid");
    }
  }
  return { uid, gid: gid ?? 0 };
}

export function resolveProcess(image: ImageProcessDefaults, p: ProcessSpec, layerDirs: string[]): ResolvedProcess {
  const args = resolveArgs(image, p);
  if (args.length === 0) {
    throw invalidInput("the image defines no ENTRYPOINT or CMD and the spec gives no process; set spec.process.argv", { field: "spec.process.argv" });
  }
  const imageEnv = image.env.some((e) => e.startsWith("PATH=")) ? image.env : [DEFAULT_PATH, ...image.env];
  return {
    args,
    env: mergeEnv(imageEnv, p.env ?? []),
    cwd: p.cwd ?? (image.workingDir || "/"),
    user: resolveUser(p.user ?? (image.user || "0"), layerDirs),
    terminal: p.terminal ?? false,
  };
}
