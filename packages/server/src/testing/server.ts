/**
 * In-process server for tests: a fresh data dir and a private
 * XDG_DATA_HOME (so the admin token and discovery file never touch the real
 * user's), port 0, a silent logger. `close()` removes everything it made.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveServerConfig } from "../config.js";
import { silentLogger, type Logger } from "../log.js";
import { startServer, type RunningServer } from "../server.js";
import { readAdminToken } from "../host/admin-token.js";
import { adminTokenPath } from "../host/paths.js";

export interface TestServer {
  server: RunningServer;
  url: string;
  root: string;
  env: NodeJS.ProcessEnv;
  token(): string;
  request(
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string>; rawBody?: string },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stop the server but keep its directories (for restart tests). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  root?: string;
  flags?: Record<string, string | boolean | string[] | undefined>;
  log?: Logger;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), "nimbus-test-"));
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: join(root, "xdg"), HOME: join(root, "home") };
  const config = resolveServerConfig({ port: "0", dataDir: join(root, "data"), ...options.flags }, {});
  const server = await startServer(config, { env, log: options.log ?? silentLogger });
  const url = server.address;
  const token = () => readAdminToken(adminTokenPath(env))!.token;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    server,
    url,
    root,
    env,
    token,
    async request(method, path, init = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${token()}`, ...init.headers };
      for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
      const body: string | undefined = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    stop,
    async close() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
