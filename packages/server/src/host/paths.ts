/**
 * Per-user locations outside the data dir: the admin token (contract §2) and
 * the discovery file that tells CLI commands where the running server is.
 */
import { homedir, platform } from "node:os";
import { join } from "node:path";

export function nimbusUserDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "nimbus");
  if (platform() === "darwin") return join(homedir(), "Library", "Application Support", "nimbus");
  return join(env.HOME || homedir(), ".local", "share", "nimbus");
}

export function adminTokenPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(nimbusUserDir(env), "auth", "token");
}

export function discoveryFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(nimbusUserDir(env), "server.json");
}
