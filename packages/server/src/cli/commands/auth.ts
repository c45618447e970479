/**
 * `nimbus auth token` prints the admin token; `nimbus token rotate` replaces
 * it — through the running server when there is one, so the old token stops
 * working at once, else by rewriting the file directly.
 */
import { adminTokenPath, discoveryFilePath } from "../../host/paths.js";
import { readAdminToken, rotateAdminToken } from "../../host/admin-token.js";
import { readDiscovery } from "../../host/discovery.js";
import type { CommandDef } from "../command.js";
import { connect } from "../connect.js";

export const authTokenCommand: CommandDef = {
  path: ["auth", "token"],
  summary: "Print the local admin token",
  usage: "nimbus auth token [--json]",
  description: "Reads $XDG_DATA_HOME/nimbus/auth/token (default ~/.local/share/nimbus/auth/token), minted by the first `nimbus start`.",
  options: { json: { type: "boolean", help: "print the whole token file as JSON" } },
  async run(args, io) {
    const path = adminTokenPath(io.env);
    const file = readAdminToken(path);
    if (!file) {
      io.err(`no admin token at ${path}: run \`nimbus start\` once to mint it`);
      return 1;
    }
    io.out(args.values.json ? JSON.stringify(file, null, 2) : file.token);
    return 0;
  },
};

export const tokenRotateCommand: CommandDef = {
  path: ["token", "rotate"],
  summary: "Rotate the admin token (the old one stops working at once)",
  usage: "nimbus token rotate [--offline]",
  options: {
    offline: { type: "boolean", help: "rewrite the token file without asking a running server (only safe when none runs)" },
  },
  async run(args, io) {
    const path = adminTokenPath(io.env);
    const running = readDiscovery(discoveryFilePath(io.env));
    if (running && !args.values.offline) {
      const { client } = connect(io, {});
      const r = await client.system.rotateToken();
      io.out(`rotated the admin token through the server at ${running.address}: generation ${r.generation}; the old token no longer works`);
      return 0;
    }
    if (!readAdminToken(path)) {
      io.err(`no admin token at ${path}: run \`nimbus start\` once to mint it`);
      return 1;
    }
    const next = rotateAdminToken(path);
    io.out(`rotated the admin token in ${path} (no server running): generation ${next.generation}`);
    return 0;
  },
};
