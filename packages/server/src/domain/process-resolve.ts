/**
 * Turning an image config plus the caller's process fields into the exact
 * process to run, by the OCI/Docker rules the contract names:
 * - `argv` (alias `args`) replaces ENTRYPOINT+CMD entirely;
 * - else `entrypoint` replaces the image's ENTRYPOINT (and drops its CMD,
 *   as `docker run --entrypoint` does) and `command` replaces CMD;
 * - `env` is merged over the image's Env by variable name;
 * - `cwd` defaults to WorkingDir, `user` to the image's User, then root.
 * User and group names are looked up in the image's own /etc/passwd and
 * /etc/group (top-most layer that has the file wins).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { invalidInput } from "./errors.js";
import { looksNumeric, parseId } from "./user-ids.js";
import type { ProcessSpec } from "./sandbox-spec.js";

export interface ImageProcessDefaults {
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  workingDir: string;
  user: string;
}

export interface ResolvedProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  terminal: boolean;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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

function readImageFile(layerDirs: string[], path: string): string | undefined {
  for (let i = layerDirs.length - 1; i >= 0; i--) {
    try {
      return readFileSync(join(layerDirs[i]!, path), "utf8");
    } catch {
      /* not in this layer */
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
    const entry = (passwd() ?? "").split("\n").map((l) => l.split(":")).find((p) => p[2] === userPart);
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
